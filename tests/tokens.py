"""Test factories: keys, signed tokens, and signed trust and status lists.

Signs with `cryptography` (OpenSSL), not the PyNaCl the verifier uses, so a test passing means
two Ed25519 implementations agree. Test-only: production signing is certificates/signing.py's.
"""

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import date

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nacl import bindings as sodium

from certificates.token import (
    CertificateClaims,
    assemble,
    b64url_encode,
    date_to_epoch_end,
    encode_payload,
    kid_for,
    new_serial,
    protected_header,
    sig_structure,
    sign_document_bytes,
)

# 2025-01-01T00:00:00Z, the moment the factories' certificates are issued.
ISSUED_AT = 1735689600
CATEGORIES = [
    {"code": "welding", "token_code": 3, "name": "焊接与热切割作业"},
    {"code": "electrical", "token_code": 1, "name": "电工作业"},
]


@dataclass(frozen=True)
class Key:
    private: Ed25519PrivateKey
    public_raw: bytes
    kid: bytes

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def make_key() -> Key:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Key(private, raw, kid_for(raw))


def make_claims(**changes) -> CertificateClaims:
    claims = CertificateClaims(
        serial=new_serial(),
        issuer_id="3f2a9c0d1e4b5a67",
        category_code=3,
        holder_name="王建国",
        holder_id_masked="410881********123X",
        issued_at=ISSUED_AT,
        expires_at=date_to_epoch_end(date(2031, 1, 1)),
        review_due_at=date_to_epoch_end(date(2028, 1, 1)),
    )
    return replace(claims, **changes)


def sign_token(key: Key, claims: CertificateClaims, kid: bytes | None = None) -> bytes:
    protected = protected_header(key.kid if kid is None else kid)
    payload = encode_payload(claims)
    return assemble(protected, payload, key.sign(sig_structure(protected, payload)))


def sign_token_fresh_nonce(key: Key, claims: CertificateClaims) -> bytes:
    """The same claims signed again with a random nonce, as a thief's own Ed25519 code may: a
    valid signature over the very same signed bytes, yet another token (RFC 8032's signing is
    deterministic, so `sign_token` would give the original back)."""
    protected = protected_header(key.kid)
    message = sig_structure(protected, encode_payload(claims))
    seed = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] = (h[31] & 127) | 64
    secret = sodium.crypto_core_ed25519_scalar_reduce(bytes(h) + bytes(32))
    nonce = sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
    r = sodium.crypto_scalarmult_ed25519_base_noclamp(nonce)
    k = sodium.crypto_core_ed25519_scalar_reduce(hashlib.sha512(r + key.public_raw + message).digest())
    s = sodium.crypto_core_ed25519_scalar_add(nonce, sodium.crypto_core_ed25519_scalar_mul(k, secret))
    return assemble(protected, encode_payload(claims), r + s)


def sign_raw(key: Key, protected_map: dict, claims_map: dict, unprotected=None) -> bytes:
    """A COSE_Sign1 built with cbor2 from arbitrary maps: for headers and claims we never issue,
    correctly signed, so only the shape checks can refuse them."""
    protected = cbor2.dumps(protected_map)
    payload = cbor2.dumps(claims_map)
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected or {}, payload, signature]))


def key_entry(key: Key, **changes) -> dict:
    entry = {
        "kid": b64url_encode(key.kid),
        "alg": "EdDSA",
        "crv": "Ed25519",
        "x": b64url_encode(key.public_raw),
        "organization_id": "3f2a9c0d1e4b5a67",
        "organization_name": "郑州安达职业培训学校",
        "accreditations": [
            {"category": "welding", "valid_from": "2024-01-01", "valid_until": "2026-12-31"},
            {"category": "electrical", "valid_from": "2024-01-01", "valid_until": "2026-12-31"},
        ],
        "not_before": "2024-06-01T00:00:00Z",
        "not_after": None,
        "status": "active",
        "compromised_at": None,
    }
    entry.update(changes)
    return entry


def signed(doc: dict, root: Key) -> dict:
    signature = root.sign(sign_document_bytes(doc))
    return {**doc, "signature": {"alg": "EdDSA", "kid": b64url_encode(root.kid),
                                 "value": b64url_encode(signature)}}


def trust_document(root: Key, *entries: dict) -> dict:
    doc = {"issued_at": "2025-06-01T00:00:00Z", "categories": CATEGORIES, "keys": list(entries)}
    return signed(doc, root)


def compromised_entry(key: Key, *tokens: bytes, compromised_at: str = "2025-05-01T00:00:00Z") -> dict:
    """A status list's entry for a compromised key that pins `tokens` (written here from
    docs/certificates.md, not with the service's code, so the two are held to the document)."""
    pins = sorted({hashlib.sha256(t).digest()[:16] for t in tokens})
    return {"kid": b64url_encode(key.kid), "compromised_at": compromised_at,
            "pinned_tokens": {"digest": "sha256-128", "count": len(pins), "digests": b64url_encode(b"".join(pins))}}


def status_document(root: Key, revoked=(), suspended=(), compromised_keys=()) -> dict:
    doc = {
        "issued_at": "2025-06-01T00:00:00Z",
        "revoked": [{"serial": s, "at": "2025-03-01T00:00:00Z"} for s in revoked],
        "suspended": [{"serial": s, "at": "2025-03-01T00:00:00Z"} for s in suspended],
        "compromised_keys": list(compromised_keys),
    }
    return signed(doc, root)
