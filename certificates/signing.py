"""The signer: the only module that ever holds a private key.

Private keys are stored encrypted (AES-256-GCM under a key-encryption key derived from
``ANZHENG_KEY_PASSPHRASE``; the key id is the associated data, so a ciphertext cannot be moved to
another key's row). The KEK is argon2id (RFC 9106's second recommendation: 64 MiB, 3 passes, 4
lanes) over a random salt that each ciphertext carries, so it travels with the database and its
backups and no two installations share a KEK for one passphrase; a signer picks its salt when it
starts and derives each salt's KEK once. Keys sealed by the first scheme (scrypt n=2^14 with a
fixed salt) still open, and are sealed again under the current one when next used; nothing is
ever dropped. Decrypted keys are cached in this process only. The algorithm is fixed: Ed25519,
always.
"""
from __future__ import annotations

import hashlib
import os

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from certificates import token as tok
from certificates.models import SigningKey

_V1_SALT = b"anzheng:key-encryption:v1"  # the first scheme's, fixed: read only, never written
V2 = b"AZK2"  # a ciphertext of the current scheme: V2, salt (16), nonce (12), sealed key
_ARGON2 = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4, "hash_len": 32, "type": Type.ID}


class Signer:
    def __init__(self, passphrase: str):
        if not passphrase:
            raise ValueError("a key passphrase is required")
        self._passphrase = passphrase.encode()
        self._salt = os.urandom(16)
        self._keks: dict[bytes, AESGCM] = {}  # salt (or the first scheme's marker) -> its KEK
        self._cache: dict[bytes, Ed25519PrivateKey] = {}

    def _kek(self, salt: bytes) -> AESGCM:
        kek = self._keks.get(salt)
        if kek is None:
            if salt == _V1_SALT:
                raw = hashlib.scrypt(self._passphrase, salt=_V1_SALT, n=2 ** 14, r=8, p=1, dklen=32)
            else:
                raw = hash_secret_raw(self._passphrase, salt, **_ARGON2)
            kek = self._keks[salt] = AESGCM(raw)
        return kek

    def _seal(self, raw: bytes, kid: bytes) -> bytes:
        nonce = os.urandom(12)
        return V2 + self._salt + nonce + self._kek(self._salt).encrypt(nonce, raw, kid)

    def _unseal(self, blob: bytes, kid: bytes) -> tuple[bytes, bool]:
        """(the raw private key, whether it was sealed by the first scheme)."""
        if blob.startswith(V2) and len(blob) > 32:
            salt, rest = blob[4:20], blob[20:]
            try:
                return self._kek(salt).decrypt(rest[:12], rest[12:], kid), False
            except InvalidTag:
                pass  # a first-scheme nonce that happens to start like V2: try that scheme
        return self._kek(_V1_SALT).decrypt(blob[:12], blob[12:], kid), True

    def __repr__(self) -> str:
        return f"<Signer with {len(self._cache)} keys loaded>"

    def generate(self, organization_id: str, purpose: str) -> SigningKey:
        """A new key pair as an unsaved row: public key in clear, private key encrypted."""
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        kid = tok.kid_for(public)
        raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        sealed = self._seal(raw, kid)
        self._cache[kid] = private
        return SigningKey(kid=kid, organization_id=organization_id, purpose=purpose,
                          public_key=public, private_enc=sealed, status="active")

    def _private(self, key: SigningKey) -> Ed25519PrivateKey:
        kid = bytes(key.kid)
        private = self._cache.get(kid)
        if private is None:
            raw, old = self._unseal(bytes(key.private_enc), kid)
            private = Ed25519PrivateKey.from_private_bytes(raw)
            if old:
                # Sealed again under the current scheme; saved with the work that used it (the old
                # ciphertext stays good until then, so a rolled-back request loses nothing).
                key.private_enc = self._seal(raw, kid)
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
