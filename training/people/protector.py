"""An identity number kept as what may be stored: a keyed lookup hash to find the person by, a keyed
bucket shared by every number of one masked form (for lookup limits), and AES-256-GCM ciphertext
where the number must be shown again.

Must not: log, print or echo a number or a key.
"""
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from training.people.identity import mask_id_number, normalize_id_number

_ASSOCIATED_DATA = b"anzheng:id_number:v1"


_NONCE_BYTES = 12


_TAG_BYTES = 16


def _require_key(key, name: str) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise ValueError(f"{name} must be exactly 32 bytes")  # never echo the key
    return bytes(key)


class IdentityProtector:
    """Turns identity numbers into what may be stored, and back.

    The lookup hash finds a person without storing the number; the ciphertext is kept only
    where the number must be shown again (to a regulator, or masked on a card).
    """

    __slots__ = ("_hash_key", "_aead")

    def __init__(self, hash_key: bytes, enc_key: bytes):
        hash_key, enc_key = _require_key(hash_key, "hash_key"), _require_key(enc_key, "enc_key")
        if hmac.compare_digest(hash_key, enc_key):
            # One key for two algorithms is a configuration mistake (a value pasted twice).
            raise ValueError("hash_key and enc_key must be different keys")
        self._hash_key = hash_key
        self._aead = AESGCM(enc_key)

    def __repr__(self) -> str:
        return "IdentityProtector(<keys hidden>)"

    def lookup_hash(self, id_number: str) -> str:
        number = normalize_id_number(id_number).encode("ascii")
        return hmac.new(self._hash_key, number, hashlib.sha256).hexdigest()

    def person_bucket(self, id_number: str) -> str:
        """A keyed name for everyone whose number has this one's masked form: the thousand or so
        numbers an attacker holding the masked form would try all share it (lookup limits)."""
        masked = mask_id_number(normalize_id_number(id_number)).encode("ascii")
        return hmac.new(self._hash_key, b"masked:" + masked, hashlib.sha256).hexdigest()[:32]

    def matches(self, id_number: str, stored_hash: str) -> bool:
        """Whether a typed number is the one behind a stored lookup hash (constant time)."""
        return hmac.compare_digest(self.lookup_hash(id_number).encode("ascii"),
                                   str(stored_hash).encode("utf-8"))

    def encrypt(self, id_number: str) -> bytes:
        number = normalize_id_number(id_number).encode("ascii")
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, number, _ASSOCIATED_DATA)

    def decrypt(self, blob: bytes) -> str:
        """The number back; cryptography's InvalidTag if the blob was altered or is foreign."""
        blob = bytes(blob)
        if len(blob) < _NONCE_BYTES + _TAG_BYTES:
            raise InvalidTag()
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, sealed, _ASSOCIATED_DATA).decode("ascii")
