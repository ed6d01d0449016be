"""The signer: the only module that ever holds a private key.

Private keys are stored encrypted (AES-256-GCM under a key-encryption key derived with scrypt
from ``ANZHENG_KEY_PASSPHRASE``; the key id is the associated data, so a ciphertext cannot be
moved to another key's row). Decrypted keys are cached in this process only. The algorithm is
fixed: Ed25519, always.
"""
from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption

from . import token as tok
from .models import SigningKey

_SALT = b"anzheng:key-encryption:v1"


class Signer:
    def __init__(self, passphrase: str):
        if not passphrase:
            raise ValueError("a key passphrase is required")
        kek = hashlib.scrypt(passphrase.encode(), salt=_SALT, n=2 ** 14, r=8, p=1, dklen=32)
        self._aead = AESGCM(kek)
        self._cache: dict[bytes, Ed25519PrivateKey] = {}

    def __repr__(self) -> str:
        return f"<Signer with {len(self._cache)} keys loaded>"

    def generate(self, organization_id: str, purpose: str) -> SigningKey:
        """A new key pair as an unsaved row: public key in clear, private key encrypted."""
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        kid = tok.kid_for(public)
        raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, raw, kid)
        self._cache[kid] = private
        return SigningKey(kid=kid, organization_id=organization_id, purpose=purpose,
                          public_key=public, private_enc=sealed, status="active")

    def _private(self, key: SigningKey) -> Ed25519PrivateKey:
        kid = bytes(key.kid)
        private = self._cache.get(kid)
        if private is None:
            blob = bytes(key.private_enc)
            private = Ed25519PrivateKey.from_private_bytes(self._aead.decrypt(blob[:12], blob[12:], kid))
            self._cache[kid] = private
        return private

    def sign(self, key: SigningKey, message: bytes) -> bytes:
        if key.status != "active":
            raise ValueError("only an active key signs")
        return self._private(key).sign(message)

    def sign_token(self, key: SigningKey, claims: tok.CertificateClaims) -> bytes:
        protected = tok.protected_header(bytes(key.kid))
        payload = tok.encode_payload(claims)
        return tok.assemble(protected, payload, self.sign(key, tok.sig_structure(protected, payload)))

    def sign_document(self, key: SigningKey, doc: dict) -> dict:
        """The document with a detached Ed25519 signature over its RFC 8785 form."""
        body = {k: v for k, v in doc.items() if k != "signature"}
        value = self.sign(key, tok.sign_document_bytes(body))
        return {**body, "signature": {"alg": "EdDSA", "kid": tok.b64url_encode(bytes(key.kid)),
                                      "value": tok.b64url_encode(value)}}
