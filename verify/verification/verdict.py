"""The offline verdict: what an inspector's device concludes from one scanned code.

Pure and self-contained: the caller hands in the scanned text, the cached trust list and
status list (as indexes built once) and the time; nothing here reads a database, the network
or a clock, and nothing here may hold a private key or import the signer. A verdict is a value,
never an exception: every input text yields one (docs/token.md gives the code's forms).
"""

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime

from nacl.bindings import crypto_sign_open as _open
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from certificates.token import (
    PIN_BYTES,
    PIN_DIGEST,
    CertificateClaims,
    MalformedToken,
    b64url_decode,
    date_to_epoch_end,
    decode,
    extract_token,
    kid_for,
    parse_serial,
    sign_document_bytes,  # re-exported: the one canonical form lives beside the token codec
    token_pin,
)
from verify.verification.messages import message

RESULTS = ("valid", "not_ours", "forged", "revoked", "suspended", "issuer_not_accredited",
           "expired", "review_overdue")
_AUTHENTIC = ("signature_valid", "offline_registry_not_checked")
_KEY_STATUSES = ("active", "retired", "compromised")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)", re.ASCII)
_DAY = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
_new_object = object.__new__
_set_attribute = object.__setattr__
_NEVER = 1 << 64  # a key without not_after: past the largest iat a token can carry


@dataclass(frozen=True)
class Verdict:
    result: str
    reasons: tuple[str, ...]
    claims: CertificateClaims | None  # only ever set once the signature has checked out
    offline: bool = True

    def reason_list(self, lang: str = "zh") -> list[dict]:
        return [{"code": code, "message": message(code, lang)} for code in self.reasons]


@dataclass(frozen=True, slots=True)
class KeyEntry:
    kid: bytes
    verify_key: VerifyKey
    organization_id: str
    organization_name: str
    not_before: int
    not_after: int
    compromised: bool
    accredited: dict  # token_code -> ((start, end), ...) epoch seconds, end exclusive
    public_raw: bytes  # the key's 32 bytes (verify_key's own), kept at hand for the hot path


@dataclass(frozen=True, slots=True)
class TrustIndex:
    issued_at: int
    keys: dict  # kid bytes -> KeyEntry
    categories: dict  # token_code -> category code
    no_review: dict  # token_code -> ((after, until), ...) epoch seconds: a review due in (after, until] is not
    # required (a category absent here always has its review)

    @classmethod
    def from_document(cls, doc: dict) -> "TrustIndex":
        """Index a trust list whose signature the caller has already checked."""
        categories, no_review = {}, {}
        for raw in _get(doc, "categories", list):
            token_code = _get(raw, "token_code", int)
            if token_code < 0 or token_code in categories:
                raise ValueError(f"bad or repeated token_code {token_code}")
            categories[token_code] = _get(raw, "code", str)
            _get(raw, "name", str)
            spans = _no_review(raw)
            if spans:
                no_review[token_code] = spans
        by_code = {code: token_code for token_code, code in categories.items()}
        keys = {}
        for raw in _get(doc, "keys", list):
            entry = _key_entry(raw, by_code)
            if entry.kid in keys:
                raise ValueError("repeated kid")
            keys[entry.kid] = entry
        return cls(_instant(_get(doc, "issued_at", str)), keys, categories, no_review)


@dataclass(frozen=True, slots=True)
class StatusIndex:
    issued_at: int
    revoked: dict  # serial bytes -> epoch seconds
    suspended: dict  # serial bytes -> epoch seconds
    compromised: dict  # kid bytes -> Pins of the tokens the registry recorded before the compromise

    @classmethod
    def from_document(cls, doc: dict) -> "StatusIndex":
        """Index a status list whose signature the caller has already checked."""
        compromised = {}
        for raw in _get(doc, "compromised_keys", list):
            _instant(_get(raw, "compromised_at", str))
            kid = _b64(raw, "kid", 8)
            if kid in compromised:
                raise ValueError("repeated compromised kid")
            compromised[kid] = Pins.from_document(_get(raw, "pinned_tokens", dict))
        return cls(_instant(_get(doc, "issued_at", str)), _serial_times(doc, "revoked"),
                   _serial_times(doc, "suspended"), compromised)


class Pins:
    """A compromised key's pinned tokens: their sorted, packed digests, searched by halving.
    Kept packed (16 bytes a token, not a set of objects at four times that) as every online
    worker holds them too; only a token under a compromised key is ever looked up."""

    __slots__ = ("packed", "count")

    def __init__(self, packed: bytes):
        self.packed, self.count = packed, len(packed) // PIN_BYTES

    @classmethod
    def from_document(cls, raw: dict) -> "Pins":
        if _get(raw, "digest", str) != PIN_DIGEST:
            raise ValueError(f"unknown pin digest {raw['digest']!r}")
        packed = b64url_decode(_get(raw, "digests", str))
        pins = cls(packed)
        if len(packed) % PIN_BYTES or pins.count != _get(raw, "count", int):
            raise ValueError("pinned digests do not add up to their count")
        if any(pins[i - 1] >= pins[i] for i in range(1, pins.count)):
            raise ValueError("pinned digests must be sorted, without repeats")
        return pins

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> bytes:
        return self.packed[i * PIN_BYTES : (i + 1) * PIN_BYTES]

    def __contains__(self, pin: bytes) -> bool:
        i = bisect_left(self, pin)
        return i < self.count and self[i] == pin


def verify_document_signature(doc: dict, public_key_raw: bytes) -> bool:
    """Whether `doc` (a trust or status list) is signed by `public_key_raw`. False, never an
    exception, for any malformed document or signature member."""
    sig = doc.get("signature") if isinstance(doc, dict) else None
    if not isinstance(sig, dict) or sig.get("alg") != "EdDSA":
        return False
    try:
        if b64url_decode(sig.get("kid")) != kid_for(public_key_raw):
            return False
        VerifyKey(public_key_raw).verify(sign_document_bytes(doc), b64url_decode(sig.get("value")))
    except (BadSignatureError, ValueError, TypeError):
        return False  # nacl's and rfc8785's errors are ValueError/TypeError subclasses
    return True


def verify_offline(text: str, trust: TrustIndex, status: StatusIndex, now) -> Verdict:
    """The verdict for a scanned text. `now`: epoch seconds or an aware datetime."""
    ours, token = extract_token(text)
    if not ours:
        return _NOT_OURS
    if token is None:
        return _FORGED["malformed_token"]
    return check_token(token, trust, status, now)


def check_token(token: bytes, trust: TrustIndex, status: StatusIndex, now) -> Verdict:
    """The verdict for a token's bytes: authenticity first (any doubt is `forged`), then its
    standing. The hot path: everything it looks up was indexed in advance."""
    if type(now) is not int:
        now = _epoch(now)
    try:
        decoded = decode(token)
    except MalformedToken:
        return _FORGED["malformed_token"]
    key = trust.keys.get(decoded.kid)
    if key is None:
        return _FORGED["unknown_key"]
    try:
        # Ed25519 whatever the token says: decode() accepted only the header naming it. PyNaCl's
        # binding of libsodium's crypto_sign_open, on the bytes decode() laid out for it: the
        # VerifyKey wrapper would copy them once more.
        _open(decoded.signed, key.public_raw)
    except BadSignatureError:
        return _FORGED["bad_signature"]
    claims = decoded.claims
    doubt = _doubt(key, decoded.kid, claims, trust, status, token)
    if doubt is not None:
        return _FORGED[doubt]
    result = _standing(key, claims, trust, status, now)
    # One __dict__ instead of the frozen __init__'s setattr per field: same Verdict, cheaper.
    verdict = _new_object(Verdict)
    _set_attribute(verdict, "__dict__", {"result": result, "reasons": _REASONS[result],
                                         "claims": claims, "offline": True})
    return verdict


def _doubt(key: KeyEntry, kid: bytes, claims: CertificateClaims, trust: TrustIndex,
           status: StatusIndex, token: bytes) -> str | None:
    """Why a correctly signed token is still not to be believed, if it is not."""
    # Whoever holds a stolen key can write any iat and any serial, so only the very tokens
    # pinned as recorded before the theft still count; the newer of the two lists may be the one
    # that knows. Only such a token pays for the digest: the ordinary path looks up one dict.
    pinned = status.compromised.get(kid)
    if (key.compromised or pinned is not None) and (pinned is None or token_pin(token) not in pinned):
        return "compromised_key"
    if not key.not_before <= claims.issued_at <= key.not_after:
        return "key_not_valid_at_signing"
    if claims.issuer_id != key.organization_id:
        return "issuer_mismatch"
    if claims.category_code not in trust.categories:
        return "unknown_category"
    return None


def _standing(key: KeyEntry, claims: CertificateClaims, trust: TrustIndex, status: StatusIndex,
              now: int) -> str:
    if claims.serial in status.revoked:
        return "revoked"
    if claims.serial in status.suspended:
        return "suspended"
    if not _accredited(key, claims.category_code, claims.issued_at):
        return "issuer_not_accredited"
    if now >= claims.expires_at:
        return "expired"
    if now >= claims.review_due_at and _review_required(trust, claims.category_code, claims.review_due_at):
        return "review_overdue"
    return "valid"


def _accredited(key: KeyEntry, category: int, at: int) -> bool:
    for start, end in key.accredited.get(category, ()):
        if start <= at < end:
            return True
    return False


def _review_required(trust: TrustIndex, category: int, due: int) -> bool:
    # Only a review already past due pays for this: a lookup and a comparison or two.
    for after, until in trust.no_review.get(category, ()):
        if after < due <= until:
            return False
    return True


def _epoch(now) -> int:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime: a naive one's zone is a guess")
        return int(now.timestamp())
    if isinstance(now, (int, float)) and not isinstance(now, bool):
        return now
    raise TypeError("now must be epoch seconds or an aware datetime")


# Verdicts without claims are the same every time, so they are made once.
_NOT_OURS = Verdict("not_ours", ("not_our_code",), None, True)
_FORGED = {
    code: Verdict("forged", (code,), None, True)
    for code in ("malformed_token", "unknown_key", "bad_signature", "compromised_key",
                 "key_not_valid_at_signing", "issuer_mismatch", "unknown_category")
}
_REASONS = {
    "valid": _AUTHENTIC,
    "revoked": ("certificate_revoked", *_AUTHENTIC),
    "suspended": ("certificate_suspended", *_AUTHENTIC),
    "issuer_not_accredited": ("issuer_not_accredited", *_AUTHENTIC),
    "expired": ("certificate_expired", *_AUTHENTIC),
    "review_overdue": ("review_overdue", *_AUTHENTIC),
}


# --- reading the documents -----------------------------------------------------------------


def _key_entry(raw: dict, by_code: dict) -> KeyEntry:
    if _get(raw, "alg", str) != "EdDSA" or _get(raw, "crv", str) != "Ed25519":
        raise ValueError("trust list keys are Ed25519 only")
    kid, x = _b64(raw, "kid", 8), _b64(raw, "x", 32)
    if kid_for(x) != kid:
        raise ValueError("kid is not the hash of its key")
    status = _get(raw, "status", str)
    if status not in _KEY_STATUSES:
        raise ValueError(f"unknown key status {status!r}")
    compromised_at = _get(raw, "compromised_at", (str, type(None)))
    if compromised_at is not None:
        _instant(compromised_at)
    not_after = _get(raw, "not_after", (str, type(None)))
    accredited = {}
    for period in _get(raw, "accreditations", list):
        token_code = by_code.get(_get(period, "category", str))
        start = date_to_epoch_end(_day(_get(period, "valid_from", str))) - 86400
        end = date_to_epoch_end(_day(_get(period, "valid_until", str)))
        if token_code is None or end <= start:
            raise ValueError("accreditation of an unknown category or an empty period")
        accredited[token_code] = accredited.get(token_code, ()) + ((start, end),)
    not_before = _instant(_get(raw, "not_before", str))
    not_after = _NEVER if not_after is None else _instant(not_after)
    if not_after < not_before:
        raise ValueError("a key's period ends before it starts")
    return KeyEntry(kid, VerifyKey(x), _get(raw, "organization_id", str),
                    _get(raw, "organization_name", str), not_before, not_after,
                    status == "compromised", accredited, x)


def _no_review(raw: dict) -> tuple:
    """A category's ``no_review`` spans ([[from, until or null], ...], inclusive China dates, in
    order, without overlap) as (start of the first day, end of the last] in epoch seconds.
    Absent: always reviewed, as every category was on a trust list from before the field."""
    if "no_review" not in raw:
        return ()
    out = []
    for span in _get(raw, "no_review", list):
        if (not isinstance(span, list) or len(span) != 2 or not isinstance(span[0], str)
                or not isinstance(span[1], (str, type(None)))):
            raise ValueError("a no_review span is [from, until or null]")
        after = date_to_epoch_end(_day(span[0])) - 86400
        until = _NEVER if span[1] is None else date_to_epoch_end(_day(span[1]))
        if until <= after or (out and after < out[-1][1]):
            raise ValueError("no_review spans must be non-empty, in order, without overlap")
        out.append((after, until))
    return tuple(out)


def _serial_times(doc: dict, name: str) -> dict:
    return {_serial(_get(e, "serial", str)): _instant(_get(e, "at", str))
            for e in _get(doc, name, list)}


def _get(obj, name: str, kind):
    if not isinstance(obj, dict) or name not in obj:
        raise ValueError(f"missing {name}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name} has the wrong type")
    return value


def _b64(obj, name: str, size: int) -> bytes:
    raw = b64url_decode(_get(obj, name, str))
    if len(raw) != size:
        raise ValueError(f"{name} must be {size} bytes")
    return raw


def _serial(text) -> bytes:
    raw = parse_serial(text)
    if raw is None:
        raise ValueError(f"not a serial: {text!r}")
    return raw


def _instant(text: str) -> int:
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _day(text: str) -> date:
    if not _DAY.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)
