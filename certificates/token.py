"""The certificate token codec: claims, serials, COSE_Sign1 bytes and QR text (docs/token.md).

Shared by the signer and every verifier, so it holds public pieces only. It must never touch a
private key, sign anything, or decide whether a certificate is valid: it builds the exact bytes
the signer signs and refuses, as `MalformedToken`, anything that is not byte for byte the shape
we issue. Deciding trust is `verify/`'s work.
"""

import base64
import functools
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import cbor2
import rfc8785

from training.clock import CHINA_SECONDS

MAX_TOKEN_BYTES = 512
# Every card's QR code stays at this version or below at error correction M (docs/token.md): the
# size printed cards and the scanner's camera are laid out for. It bounds a holder's name.
MAX_QR_VERSION = 10
MAX_TEXT_CHARS = 2048
SERIAL_BYTES = 10
# A token carries a 64-byte signature, so a shorter bare text cannot be one (docs/token.md).
MIN_BARE_CHARS = 86

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {c: i for i, c in enumerate(_CROCKFORD)} | {"I": 1, "L": 1, "O": 0}
_SERIAL_IGNORED = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Tag 18, array(4), bstr(13) holding {1: -8, 4: bstr(8)}: the only header we issue. Comparing
# bytes, not decoded values, means the token's own alg is never interpreted, only matched.
_HEAD = b"\xd2\x84\x4d\xa2\x01\x27\x04\x48"
_SIG1_PREFIX = b"\x84\x6aSignature1"
_TOKEN_ALPHABET = re.compile(r"[0-9A-Za-z_-]+", re.ASCII)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]*(/[^?#\s]*)", re.ASCII)


class MalformedToken(ValueError):
    """The bytes are not a token of ours; `reason` says which check refused them."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CertificateClaims:
    serial: bytes
    issuer_id: str
    category_code: int
    holder_name: str
    holder_id_masked: str
    issued_at: int
    expires_at: int
    review_due_at: int

    @property
    def serial_text(self) -> str:
        return serial_text(self.serial)


class DecodedToken(NamedTuple):
    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    claims: CertificateClaims
    signed: bytes  # the signature, then the bytes it covers: libsodium's "signed message"

    @property
    def sig_structure(self) -> bytes:
        """The exact bytes the signature covers (COSE's Sig_structure)."""
        return self.signed[64:]


# --- serials and dates -------------------------------------------------------------------


def new_serial() -> bytes:
    return secrets.token_bytes(SERIAL_BYTES)


def serial_text(raw: bytes) -> str:
    if len(raw) != SERIAL_BYTES:
        raise ValueError("a serial is 10 bytes")
    n = int.from_bytes(raw, "big")
    chars = "".join(_CROCKFORD[(n >> shift) & 31] for shift in range(75, -1, -5))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def parse_serial(text: str) -> bytes | None:
    """Read a serial as a person typed it: case, hyphens, spaces, I/L/O and full-width forms
    (a Chinese input method's default) are forgiven. None if it is not a serial."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    chars = _SERIAL_IGNORED.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(chars) != 16:
        return None
    n = 0
    for c in chars:
        value = _CROCKFORD_VALUE.get(c)
        if value is None:
            return None
        n = (n << 5) | value
    return n.to_bytes(SERIAL_BYTES, "big")


def date_to_epoch_end(d: date) -> int:
    """Epoch seconds of 00:00 China Standard Time on the day after `d`: the first instant
    after the last valid day, as `exp` and the review-due claim carry it."""
    return (d.toordinal() + 1 - _EPOCH_ORDINAL) * 86400 - CHINA_SECONDS


def epoch_end_to_date(ts: int) -> date:
    """Inverse of date_to_epoch_end: the last day whose end is at or before `ts`."""
    return date.fromordinal((int(ts) + CHINA_SECONDS) // 86400 + _EPOCH_ORDINAL - 1)


# --- building (signer side) --------------------------------------------------------------


def kid_for(public_key_raw: bytes) -> bytes:
    if len(public_key_raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(public_key_raw).digest()[:8]


def protected_header(kid: bytes) -> bytes:
    if len(kid) != 8:
        raise ValueError("a kid is 8 bytes")
    return _HEAD[3:] + kid


def encode_payload(claims: CertificateClaims) -> bytes:
    """Deterministic CBOR of the claims. ValueError for claims a verifier would refuse (wrong
    types, empty text, a 9-byte serial), so a certificate that cannot verify is never signed."""
    c = claims
    try:
        payload = cbor2.dumps({1: c.issuer_id, 4: c.expires_at, 6: c.issued_at, 7: c.serial,
                               -65537: {1: c.category_code, 2: c.holder_name,
                                        3: c.holder_id_masked, 4: c.review_due_at}},
                              canonical=True)
        if _parse_claims(payload) == claims:
            return payload
    except (cbor2.CBOREncodeError, MalformedToken, IndexError):
        pass
    raise ValueError(f"claims the token format cannot carry: {claims!r}")


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return b"".join((_SIG1_PREFIX, _bstr_head(len(protected)), protected, b"\x40",
                     _bstr_head(len(payload)), payload))


def assemble(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    if len(signature) != 64:
        raise ValueError("an Ed25519 signature is 64 bytes")
    return b"".join((b"\xd2\x84", _bstr_head(len(protected)), protected, b"\xa0",
                     _bstr_head(len(payload)), payload, b"\x58\x40", signature))


def sign_document_bytes(doc: dict) -> bytes:
    """RFC 8785 canonical JSON of a trust or status list without its `signature` member: the
    bytes its signer signs and its readers verify. Signs nothing itself."""
    return rfc8785.dumps({k: v for k, v in doc.items() if k != "signature"})


# A compromised key's status-list entry pins each token the registry recorded before the
# compromise by the first 16 bytes of SHA-256 over the token's bytes, exactly as issued (the
# tagged COSE_Sign1 the QR text carries): the signed bytes and the signature together, so a
# fresh signature over any claims, even the same ones, matches no pin (docs/certificates.md).
PIN_DIGEST = "sha256-128"
PIN_BYTES = 16


def token_pin(token: bytes) -> bytes:
    """The status list's pin of one token: a prefix of the registry's SHA-256 of the token."""
    return hashlib.sha256(token).digest()[:PIN_BYTES]


@functools.lru_cache(maxsize=8)
def name_budget(base_url: str) -> int:
    """The most UTF-8 bytes a holder's name may take for the certificate's QR text under
    ``base_url`` to stay at MAX_QR_VERSION, every other claim at its largest (0: none fits).
    Registration refuses longer names; issuance refuses a token that still does not fit."""
    from certificates.qr import qr_version  # the encoder itself decides what fits
    budget = 0
    for n in range(1, MAX_TOKEN_BYTES):
        length = _longest_token_length(n)
        # Digits of the largest number a token of this length can be (it starts with 0xD2).
        digits = len(str(int.from_bytes(b"\xd2" + b"\xff" * (length - 1), "big")))
        if length > MAX_TOKEN_BYTES or qr_version(f"{base_url.upper().rstrip('/')}/V/{'9' * digits}") > MAX_QR_VERSION:
            break
        budget = n
    return budget


def name_fits(name: str, base_url: str) -> bool:
    return len(name.encode("utf-8", "surrogatepass")) <= name_budget(base_url)


def _longest_token_length(name_bytes: int) -> int:
    """The length of a token whose holder's name takes ``name_bytes``, every other claim at the
    largest it takes: a 16-character issuer id, 32-bit times, a two-byte category code."""
    claims = CertificateClaims(serial=bytes(SERIAL_BYTES), issuer_id="f" * 16, category_code=255,
                               holder_name="a" * name_bytes, holder_id_masked="410881********123X",
                               issued_at=2**32 - 1, expires_at=2**32 - 1, review_due_at=2**32 - 1)
    return len(assemble(protected_header(bytes(8)), encode_payload(claims), bytes(64)))


def _bstr_head(n: int) -> bytes:
    if n < 24:
        return bytes((0x40 + n,))
    if n < 256:
        return bytes((0x58, n))
    return b"\x59" + n.to_bytes(2, "big")


# --- decoding (verifier side, the hot path) -----------------------------------------------


def decode(token: bytes) -> DecodedToken:
    """Parse a token strictly by hand: cbor2 would accept trailing bytes, other encodings of
    the header and tag quirks that differ between its versions; this accepts one layout."""
    if type(token) is not bytes:
        token = _as_bytes(token)
    elif len(token) > MAX_TOKEN_BYTES:  # before any parsing
        raise MalformedToken("too_large")
    if not token.startswith(_HEAD):
        raise MalformedToken("not_cose_sign1" if token[:2] != b"\xd2\x84" else "bad_protected_header")
    try:
        if token[16] != 0xA0:
            raise MalformedToken("unprotected_header_not_empty")
        start, end = _payload_bounds(token)
        if token[end : end + 2] != b"\x58\x40" or len(token) != end + 66:
            raise MalformedToken("bad_signature_field")
        payload = token[start:end]
        claims = _parse_claims(payload)
    except IndexError:
        raise MalformedToken("truncated") from None
    signature = token[end + 2 :]
    # One copy for the verifier: the signature followed by the Sig_structure, as libsodium takes it.
    signed = b"".join((signature, _SIG1_PREFIX, token[2:16], b"\x40", token[17:end]))
    # tuple.__new__ skips NamedTuple's Python-level __new__: same object, a third of the cost.
    return _new_tuple(DecodedToken, (token[8:16], token[3:16], payload, signature, claims, signed))


def _as_bytes(token) -> bytes:
    # The size cap comes before any copying or parsing.
    if isinstance(token, memoryview):
        if token.nbytes > MAX_TOKEN_BYTES:
            raise MalformedToken("too_large")
        return token.tobytes()
    if not isinstance(token, (bytes, bytearray)):  # bytes(5) would be five zero bytes
        raise MalformedToken("not_bytes")
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedToken("too_large")
    return bytes(token)


def _payload_bounds(token: bytes) -> tuple[int, int]:
    b = token[17]
    if 0x40 <= b < 0x58:
        return 18, 18 + b - 0x40
    if b == 0x58 and token[18] >= 24:
        return 19, 19 + token[18]
    if b == 0x59 and token[18] > 0:
        return 20, 20 + _from_bytes(token[18:20])
    raise MalformedToken("bad_payload")


_UINT_WIDTH = {0x18: 1, 0x19: 2, 0x1A: 4, 0x1B: 8}
_from_bytes = int.from_bytes  # big-endian by default; bound once, the scan path calls it often
_new_tuple = tuple.__new__
_new_object = object.__new__
_set_attribute = object.__setattr__
_CERTIFICATE_KEY = b"\x3a\x00\x01\x00\x00\xa4\x01"  # key -65537, map(4), its key 1


def _uint(p: bytes, i: int) -> tuple[int, int]:
    b = p[i]
    if b < 0x18:
        return b, i + 1
    if b == 0x1A:  # every epoch time we carry: tried first, it is the common case
        v = _from_bytes(p[i + 1 : i + 5])
        width = 4
    else:
        width = _UINT_WIDTH.get(b)
        if width is None:
            raise MalformedToken("bad_claims")
        v = _from_bytes(p[i + 1 : i + 1 + width])
    if v < (24 if width == 1 else 1 << (4 * width)):  # deterministic: shortest form only
        raise MalformedToken("bad_claims")
    return v, i + 1 + width


def _text(p: bytes, i: int) -> tuple[str, int]:
    b = p[i]
    if 0x61 <= b < 0x78:  # empty text is refused: every text claim names something
        n, j = b - 0x60, i + 1
    elif b == 0x78 and p[i + 1] >= 24:
        n, j = p[i + 1], i + 2
    elif b == 0x79 and p[i + 1] > 0:
        n, j = _from_bytes(p[i + 1 : i + 3]), i + 3
    else:
        raise MalformedToken("bad_claims")
    if j + n > len(p):
        raise MalformedToken("truncated")
    try:
        return p[j : j + n].decode(), j + n  # strict UTF-8
    except UnicodeDecodeError:
        raise MalformedToken("bad_claims") from None


def _parse_claims(p: bytes) -> CertificateClaims:
    """Read the claims in the one order deterministic CBOR gives them (1, 4, 6, 7, -65537;
    inside: 1, 2, 3, 4). Unrolled, as the scan path's cost is mostly here: any other key,
    order, type, missing or extra claim or trailing byte fails a byte comparison."""
    if p[0] != 0xA5 or p[1] != 0x01:
        raise MalformedToken("bad_claims")
    iss, i = _text(p, 2)
    if p[i] != 0x04:
        raise MalformedToken("bad_claims")
    exp, i = _uint(p, i + 1)
    if p[i] != 0x06:
        raise MalformedToken("bad_claims")
    iat, i = _uint(p, i + 1)
    if p[i] != 0x07 or p[i + 1] != 0x4A:
        raise MalformedToken("bad_claims")
    serial = p[i + 2 : i + 12]
    if p[i + 12 : i + 19] != _CERTIFICATE_KEY:
        raise MalformedToken("bad_claims")
    category, i = _uint(p, i + 19)
    if p[i] != 0x02:
        raise MalformedToken("bad_claims")
    name, i = _text(p, i + 1)
    if p[i] != 0x03:
        raise MalformedToken("bad_claims")
    masked, i = _text(p, i + 1)
    if p[i] != 0x04:
        raise MalformedToken("bad_claims")
    review, i = _uint(p, i + 1)
    if i != len(p):
        raise MalformedToken("trailing_bytes")
    # Filling __dict__ in one step instead of the frozen __init__'s setattr per field saves a
    # measurable share of the scan path; the instance is the same (tests compare the two).
    claims = _new_object(CertificateClaims)
    _set_attribute(claims, "__dict__", {
        "serial": serial, "issuer_id": iss, "category_code": category, "holder_name": name,
        "holder_id_masked": masked, "issued_at": iat, "expires_at": exp, "review_due_at": review,
    })
    return claims


# --- QR text --------------------------------------------------------------------------------


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url, strictly: any other character or a non-canonical last character
    is a ValueError, so one byte string has exactly one text form."""
    if not isinstance(text, str) or (text and not _TOKEN_ALPHABET.fullmatch(text)):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


def qr_text(token: bytes, base_url: str) -> str:
    if not 0 < len(token) <= MAX_TOKEN_BYTES or token[0] == 0:
        # A leading zero byte would be lost in the decimal form.
        raise ValueError("not a token that has a decimal form")
    return f"{base_url.upper().rstrip('/')}/V/{int.from_bytes(token, 'big')}"


def extract_token(text: str) -> tuple[bool, bytes | None]:
    """(is_ours, token) for a scanned text; never raises. is_ours with None means a text in
    one of our forms whose token cannot be read: the caller reports it as forged.

    Ours: a URL of any scheme and host whose path ends in /V/<token> or /v/<token>, or a bare
    <token> of at least MIN_BARE_CHARS; a <token> is all digits (decimal) or else base64url.
    Surrounding whitespace is ignored. A text over MAX_TEXT_CHARS is never decoded: it counts
    as ours if its start has our shape (a padded forgery of ours reads forged, not foreign).
    """
    if not isinstance(text, str):
        return False, None
    if len(text) > MAX_TEXT_CHARS:
        return _looks_ours(text[:MAX_TEXT_CHARS].lstrip()), None
    text = text.strip()
    m = _URL.fullmatch(text)
    if m is not None:
        # The host is trusted neither way; a base URL with a path of its own still round-trips.
        head, _, tail = m.group(1).rpartition("/")
        if head.rpartition("/")[2] not in ("V", "v") or not _TOKEN_ALPHABET.fullmatch(tail):
            return False, None
        return True, _token_from(tail)
    if len(text) >= MIN_BARE_CHARS and _TOKEN_ALPHABET.fullmatch(text):
        return True, _token_from(text)
    return False, None


def _token_from(chars: str) -> bytes | None:
    if chars.isdigit():
        # 1234 digits is the most a 512-byte number has; bigger is refused before int().
        if len(chars) > 1234:
            return None
        n = int(chars)
        token = n.to_bytes((n.bit_length() + 7) // 8, "big")
    else:
        try:
            token = b64url_decode(chars)
        except ValueError:
            return None
    return token if 0 < len(token) <= MAX_TOKEN_BYTES else None


def _looks_ours(prefix: str) -> bool:
    if _TOKEN_ALPHABET.fullmatch(prefix):
        return True
    m = _URL.match(prefix)
    return m is not None and ("/V/" in m.group(1) or "/v/" in m.group(1))
