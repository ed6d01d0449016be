"""The offline verdict: every result reachable, every tampering forged, no input raises."""

import dataclasses
import hashlib
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings, strategies as st

from certificates.token import b64url_encode, date_to_epoch_end, decode, qr_text
from tests.tokens import (
    compromised_entry,
    key_entry,
    make_claims,
    make_key,
    sign_raw,
    sign_token,
    sign_token_fresh_nonce,
    signed,
    status_document,
    trust_document,
)
from verify.verification import verdict as verdict_module
from verify.verification.messages import MESSAGES, message
from verify.verification.verdict import (
    RESULTS,
    StatusIndex,
    TrustIndex,
    Verdict,
    check_token,
    sign_document_bytes,
    verify_document_signature,
    verify_offline,
)

ROOT = make_key()
ISSUER = make_key()
NOW = date_to_epoch_end(date(2025, 8, 1))
BASE_URL = "https://anzheng.example.cn"
TRUST = TrustIndex.from_document(trust_document(ROOT, key_entry(ISSUER)))
STATUS = StatusIndex.from_document(status_document(ROOT))
CLAIMS = make_claims()
TOKEN = sign_token(ISSUER, CLAIMS)
AUTHENTIC = ("signature_valid", "offline_registry_not_checked")


def verdict_for(token: bytes, *, entry: dict | None = None, status: dict | None = None,
                now: int = NOW) -> Verdict:
    trust = TRUST if entry is None else TrustIndex.from_document(trust_document(ROOT, entry))
    status = STATUS if status is None else StatusIndex.from_document(status)
    return check_token(token, trust, status, now)


MARKED = key_entry(ISSUER, status="compromised", compromised_at="2025-05-01T00:00:00Z")


# --- valid, and the forms a scan arrives in --------------------------------------------------


@pytest.mark.parametrize("text", [
    qr_text(TOKEN, BASE_URL),
    qr_text(TOKEN, BASE_URL).lower(),
    b64url_encode(TOKEN),
    str(int.from_bytes(TOKEN, "big")),
])
def test_verify_offline_valid_for_a_genuine_certificate(text):
    verdict = verify_offline(text, TRUST, STATUS, NOW)
    assert (verdict.result, verdict.reasons) == ("valid", AUTHENTIC)
    assert verdict.claims == CLAIMS and verdict.offline is True


def test_verify_offline_accepts_an_aware_datetime_and_refuses_a_naive_one():
    now = datetime(2025, 8, 1, tzinfo=UTC)
    assert verify_offline(b64url_encode(TOKEN), TRUST, STATUS, now).result == "valid"
    with pytest.raises(ValueError):
        check_token(TOKEN, TRUST, STATUS, datetime(2025, 8, 1))


def test_verdict_reason_list_words_every_reason_in_both_languages():
    verdict = check_token(TOKEN, TRUST, STATUS, NOW)
    assert [r["code"] for r in verdict.reason_list("en")] == list(AUTHENTIC)
    assert verdict.reason_list("zh")[1]["message"] == MESSAGES["offline_registry_not_checked"]["zh"]
    assert "registry" in verdict.reason_list("en")[1]["message"]


def test_verdict_is_a_normal_frozen_dataclass():
    verdict = check_token(TOKEN, TRUST, STATUS, NOW)
    assert verdict == Verdict("valid", AUTHENTIC, CLAIMS, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.result = "forged"


# --- forged --------------------------------------------------------------------------------


def test_check_token_forged_for_every_single_bit_flip_in_both_text_forms():
    for bit in range(len(TOKEN) * 8):
        flipped = bytearray(TOKEN)
        flipped[bit // 8] ^= 1 << (bit % 8)
        for text in (b64url_encode(bytes(flipped)), qr_text(bytes(flipped), BASE_URL)):
            verdict = verify_offline(text, TRUST, STATUS, NOW)
            assert (verdict.result, verdict.claims) == ("forged", None), (bit, verdict)


def test_check_token_forged_when_another_key_reuses_a_real_kid():
    token = sign_token(make_key(), CLAIMS, kid=ISSUER.kid)
    assert verdict_for(token).reasons == ("bad_signature",)


def test_check_token_forged_for_a_key_not_in_the_trust_list():
    assert verdict_for(sign_token(make_key(), CLAIMS)).reasons == ("unknown_key",)


@pytest.mark.parametrize("protected, unprotected", [
    ({1: -7, 4: ISSUER.kid}, None),
    ({1: -8, 4: ISSUER.kid, 3: 0}, None),
    ({1: -8, 4: ISSUER.kid, 2: [1]}, None),
    ({4: ISSUER.kid}, None),
    ({1: -8, 4: ISSUER.kid}, {1: -7}),
])
def test_check_token_forged_for_tampered_algorithm_headers(protected, unprotected):
    decoded_claims = {1: CLAIMS.issuer_id, 4: CLAIMS.expires_at, 6: CLAIMS.issued_at,
                      7: CLAIMS.serial, -65537: {1: 3, 2: CLAIMS.holder_name,
                                                 3: CLAIMS.holder_id_masked,
                                                 4: CLAIMS.review_due_at}}
    token = sign_raw(ISSUER, protected, decoded_claims, unprotected)
    assert verdict_for(token) == Verdict("forged", ("malformed_token",), None, True)


def test_check_token_forged_for_a_stolen_key_outside_the_pinned_tokens():
    listed = status_document(ROOT, compromised_keys=[compromised_entry(ISSUER)])
    assert verdict_for(TOKEN, status=listed).reasons == ("compromised_key",)
    assert verdict_for(TOKEN, entry=MARKED).reasons == ("compromised_key",)


def test_check_token_valid_for_a_stolen_key_on_a_pinned_token():
    listed = status_document(ROOT, compromised_keys=[compromised_entry(ISSUER, TOKEN)])
    assert verdict_for(TOKEN, entry=MARKED, status=listed).result == "valid"


def test_check_token_forged_for_fresh_claims_signed_with_a_stolen_key_under_a_pinned_serial():
    """The thief holds the private key and a serial the registry really issued under it: every
    new token under that serial is refused, whatever it claims, and even the very same claims
    signed afresh; the two tokens the registry made (first issue, then a review's re-signing)
    still verify."""
    reviewed = sign_token(ISSUER, dataclasses.replace(CLAIMS, issued_at=CLAIMS.issued_at + 86400,
                                                      review_due_at=CLAIMS.review_due_at + 86400 * 365))
    listed = status_document(ROOT, compromised_keys=[compromised_entry(ISSUER, TOKEN, reviewed)])
    forgeries = [
        sign_token(ISSUER, dataclasses.replace(CLAIMS, holder_name="张三", holder_id_masked="110101********0011")),
        sign_token(ISSUER, dataclasses.replace(CLAIMS, category_code=1)),
        sign_token(ISSUER, dataclasses.replace(CLAIMS, expires_at=date_to_epoch_end(date(2040, 1, 1)),
                                               review_due_at=date_to_epoch_end(date(2039, 1, 1)))),
        sign_token(ISSUER, dataclasses.replace(CLAIMS, issued_at=CLAIMS.issued_at - 86400)),  # backdated
        sign_token_fresh_nonce(ISSUER, CLAIMS),
    ]
    for entry in (MARKED, key_entry(ISSUER)):  # the status list alone knows, too
        for forged in forgeries:
            assert verdict_for(forged, entry=entry, status=listed).reasons == ("compromised_key",)
        for genuine in (TOKEN, reviewed):
            assert verdict_for(genuine, entry=entry, status=listed).result == "valid"
    assert verdict_for(TOKEN, entry=MARKED).reasons == ("compromised_key",)  # no pins listed: none pass


def test_check_token_pins_one_key_apart_from_another():
    other = make_key()
    token = sign_token(other, CLAIMS)
    listed = status_document(ROOT, compromised_keys=[compromised_entry(ISSUER, token), compromised_entry(other)])
    trust = TrustIndex.from_document(trust_document(ROOT, MARKED, key_entry(other, status="compromised",
                                                                           compromised_at="2025-05-01T00:00:00Z")))
    status = StatusIndex.from_document(listed)
    assert check_token(token, trust, status, NOW).reasons == ("compromised_key",)
    assert check_token(TOKEN, trust, status, NOW).reasons == ("compromised_key",)


@pytest.mark.parametrize("window", [
    {"not_before": "2025-01-01T00:00:01Z"},
    {"not_after": "2024-12-31T23:59:59Z"},
])
def test_check_token_forged_when_signed_outside_the_key_period(window):
    assert verdict_for(TOKEN, entry=key_entry(ISSUER, **window)).reasons == (
        "key_not_valid_at_signing",)


def test_check_token_valid_on_the_edges_of_the_key_period():
    edges = key_entry(ISSUER, not_before="2025-01-01T00:00:00Z", not_after="2025-01-01T00:00:00Z")
    assert verdict_for(TOKEN, entry=edges).result == "valid"


def test_check_token_forged_when_the_issuer_is_not_the_key_owner():
    token = sign_token(ISSUER, make_claims(issuer_id="00000000deadbeef"))
    assert verdict_for(token).reasons == ("issuer_mismatch",)


def test_check_token_forged_for_an_unknown_category():
    assert verdict_for(sign_token(ISSUER, make_claims(category_code=9))).reasons == (
        "unknown_category",)


# --- authentic, but not valid ------------------------------------------------------------------


def test_check_token_revoked_comes_before_expired():
    revoked = status_document(ROOT, revoked=[CLAIMS.serial_text.lower()])
    verdict = verdict_for(TOKEN, status=revoked, now=CLAIMS.expires_at)
    assert (verdict.result, verdict.reasons) == ("revoked", ("certificate_revoked", *AUTHENTIC))
    assert verdict.claims == CLAIMS


def test_check_token_suspended():
    suspended = status_document(ROOT, suspended=[CLAIMS.serial_text])
    assert verdict_for(TOKEN, status=suspended).result == "suspended"


@pytest.mark.parametrize("periods", [
    [{"category": "electrical", "valid_from": "2024-01-01", "valid_until": "2026-12-31"}],
    [{"category": "welding", "valid_from": "2025-01-02", "valid_until": "2026-12-31"}],
    [{"category": "welding", "valid_from": "2023-01-01", "valid_until": "2024-12-31"}],
    [],
])
def test_check_token_issuer_not_accredited_on_the_issue_date(periods):
    # ISSUED_AT is 2025-01-01 08:00 in China: the periods above all miss that day.
    verdict = verdict_for(TOKEN, entry=key_entry(ISSUER, accreditations=periods))
    assert verdict.reasons == ("issuer_not_accredited", *AUTHENTIC)


def test_check_token_accreditation_days_are_china_days():
    midnight_cst = date_to_epoch_end(date(2024, 12, 31))  # 2025-01-01 00:00 +08:00
    entry = key_entry(ISSUER, not_before="2024-01-01T00:00:00Z", accreditations=[
        {"category": "welding", "valid_from": "2025-01-01", "valid_until": "2025-01-01"}])
    for issued_at, expected in [(midnight_cst - 1, "issuer_not_accredited"),
                                (midnight_cst, "valid"), (midnight_cst + 86399, "valid"),
                                (midnight_cst + 86400, "issuer_not_accredited")]:
        token = sign_token(ISSUER, make_claims(issued_at=issued_at))
        assert verdict_for(token, entry=entry).result == expected, issued_at


def test_check_token_expired_from_exp_on():
    assert verdict_for(TOKEN, now=CLAIMS.expires_at - 1).result == "review_overdue"
    verdict = verdict_for(TOKEN, now=CLAIMS.expires_at)
    assert verdict.reasons == ("certificate_expired", *AUTHENTIC)


def test_check_token_review_overdue_from_review_due_on():
    assert verdict_for(TOKEN, now=CLAIMS.review_due_at - 1).result == "valid"
    verdict = verdict_for(TOKEN, now=CLAIMS.review_due_at)
    assert verdict.reasons == ("review_overdue", *AUTHENTIC)


# The 2026 rules: the special operations have no review from 2026-06-01 on, confined space keeps it.
RULES_CATEGORIES = [
    {"code": "electrical", "token_code": 1, "name": "电工作业"},  # a list from before no_review
    {"code": "welding", "token_code": 3, "name": "焊接与热切割作业", "no_review": [["2026-06-01", None]]},
    {"code": "confined_space", "token_code": 5, "name": "有限空间作业", "no_review": []},
]
RULES_ENTRY = key_entry(ISSUER, accreditations=[
    {"category": code, "valid_from": "2024-01-01", "valid_until": "2026-12-31"}
    for code in ("electrical", "welding", "confined_space")])


def rules_trust(categories=RULES_CATEGORIES, entry=RULES_ENTRY) -> TrustIndex:
    return TrustIndex.from_document(signed({"issued_at": "2025-06-01T00:00:00Z", "categories": categories,
                                            "keys": [entry]}, ROOT))


def welding_spans(no_review) -> list[dict]:
    """RULES_CATEGORIES with welding's no_review replaced."""
    return [{**c, "no_review": no_review} if c["code"] == "welding" else c for c in RULES_CATEGORIES]


def due_on(day: date, category: int = 3) -> bytes:
    return sign_token(ISSUER, make_claims(category_code=category, review_due_at=date_to_epoch_end(day),
                                          expires_at=date_to_epoch_end(date(2031, 1, 1))))


def test_check_token_review_overdue_when_it_fell_due_before_the_2026_rules():
    trust = rules_trust()
    for due in (date(2025, 12, 31), date(2026, 5, 31)):
        token = due_on(due)
        assert check_token(token, trust, STATUS, date_to_epoch_end(due) - 1).result == "valid"
        for now in (date_to_epoch_end(due), date_to_epoch_end(date(2026, 6, 2)), date_to_epoch_end(date(2029, 1, 1))):
            assert check_token(token, trust, STATUS, now).reasons == ("review_overdue", *AUTHENTIC), (due, now)


def test_check_token_valid_past_a_review_due_under_the_2026_rules():
    trust = rules_trust()
    for due in (date(2026, 6, 1), date(2026, 6, 2), date(2028, 1, 1)):
        token = due_on(due)
        for now in (date_to_epoch_end(due), date_to_epoch_end(due) + 86400 * 400,
                    date_to_epoch_end(date(2031, 1, 1)) - 1):
            verdict = check_token(token, trust, STATUS, now)
            assert (verdict.result, verdict.reasons) == ("valid", AUTHENTIC), (due, now)
        assert check_token(token, trust, STATUS, date_to_epoch_end(date(2031, 1, 1))).result == "expired"


def test_check_token_review_overdue_for_confined_space_whatever_the_date():
    trust = rules_trust()
    for due in (date(2026, 5, 31), date(2026, 6, 1), date(2028, 1, 1)):
        token = due_on(due, category=5)
        assert check_token(token, trust, STATUS, date_to_epoch_end(due) - 1).result == "valid"
        assert check_token(token, trust, STATUS, date_to_epoch_end(due)).result == "review_overdue", due


def test_check_token_no_review_spans_are_inclusive_china_days():
    trust = rules_trust(welding_spans([["2026-06-01", "2026-06-30"], ["2026-09-01", "2026-09-01"]]))
    later = date_to_epoch_end(date(2030, 1, 1))
    for due, expected in [(date(2026, 5, 31), "review_overdue"), (date(2026, 6, 1), "valid"),
                          (date(2026, 6, 30), "valid"), (date(2026, 7, 1), "review_overdue"),
                          (date(2026, 8, 31), "review_overdue"), (date(2026, 9, 1), "valid"),
                          (date(2026, 9, 2), "review_overdue")]:
        assert check_token(due_on(due), trust, STATUS, later).result == expected, due
    # The claim is the end of a China day: one second either side of the span's edges is another day.
    start, end = date_to_epoch_end(date(2026, 5, 31)), date_to_epoch_end(date(2026, 6, 30))
    for review_due_at, expected in [(start, "review_overdue"), (start + 1, "valid"), (end, "valid"),
                                    (end + 1, "review_overdue")]:
        token = sign_token(ISSUER, make_claims(review_due_at=review_due_at, expires_at=later + 86400))
        assert check_token(token, trust, STATUS, later).result == expected, review_due_at


def test_trust_index_without_no_review_reviews_every_category_as_before():
    assert TRUST.no_review == {}
    token = due_on(date(2026, 6, 1))
    assert verdict_for(token, now=date_to_epoch_end(date(2026, 6, 1)) - 1).result == "valid"
    assert verdict_for(token, now=date_to_epoch_end(date(2026, 6, 1))).result == "review_overdue"
    electrical = due_on(date(2026, 7, 1), category=1)  # no field on the rules' list either
    now = date_to_epoch_end(date(2026, 7, 1))
    assert check_token(electrical, rules_trust(), STATUS, now).result == "review_overdue"


def test_trust_list_categories_carry_the_catalogues_no_review_spans(app):
    from certificates.lists import trust_document as served

    categories = {c["code"]: c for c in served()["categories"]}
    assert categories["welding"]["no_review"] == [["2026-06-01", None]]
    assert categories["confined_space"]["no_review"] == []
    trust = rules_trust(list(categories.values()), key_entry(ISSUER, accreditations=[
        {"category": code, "valid_from": "2024-01-01", "valid_until": "2026-12-31"}
        for code in ("welding", "confined_space")]))
    assert set(trust.no_review) == {c["token_code"] for c in categories.values() if c["no_review"]}
    assert trust.categories[3] == "welding" and trust.categories[5] == "confined_space"
    now = date_to_epoch_end(date(2027, 1, 1))
    assert check_token(due_on(date(2026, 6, 1)), trust, STATUS, now).result == "valid"
    assert check_token(due_on(date(2026, 5, 31)), trust, STATUS, now).result == "review_overdue"
    assert check_token(due_on(date(2026, 6, 1), category=5), trust, STATUS, now).result == "review_overdue"


def test_verify_offline_reaches_every_result():
    seen = {
        verify_offline("hello", TRUST, STATUS, NOW).result,
        verify_offline(b64url_encode(TOKEN)[:-2] + "AA", TRUST, STATUS, NOW).result,
        verdict_for(TOKEN).result,
        verdict_for(TOKEN, status=status_document(ROOT, revoked=[CLAIMS.serial_text])).result,
        verdict_for(TOKEN, status=status_document(ROOT, suspended=[CLAIMS.serial_text])).result,
        verdict_for(TOKEN, entry=key_entry(ISSUER, accreditations=[])).result,
        verdict_for(TOKEN, now=CLAIMS.expires_at).result,
        verdict_for(TOKEN, now=CLAIMS.review_due_at).result,
    }
    assert seen == set(RESULTS)


# --- hostile and foreign input ---------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "410881199001011234",
    "https://zwfw.mem.gov.cn/cert/query?certNo=T410881199001011234",
    "https://www.example.com/some/page",
    "",
    "hello",
    "😀证书\u202e\u0000" * 30,
])
def test_verify_offline_not_ours_for_foreign_codes(text):
    verdict = verify_offline(text, TRUST, STATUS, NOW)
    assert verdict == Verdict("not_ours", ("not_our_code",), None, True)


@pytest.mark.parametrize("text, result", [
    ("7" * 100_000, "forged"),
    ("a" * 10 * 2**20, "forged"),
    (qr_text(TOKEN, BASE_URL) + "0" * 100_000, "forged"),
    ("好" * 10 * 2**20, "not_ours"),
], ids=["100k-digits", "10M-base64url", "padded-qr-url", "10M-chinese"])
def test_verify_offline_gives_a_verdict_for_oversized_text(text, result):
    assert verify_offline(text, TRUST, STATUS, NOW).result == result


def test_check_token_forged_for_oversized_or_foreign_bytes():
    for blob in (bytes(10 * 2**20), TOKEN * 3, b"", "not bytes", None):
        assert check_token(blob, TRUST, STATUS, NOW).reasons == ("malformed_token",)


TOKEN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.tuples(st.sampled_from(["", "https://a.cn/v/", "HTTP://A.CN/V/", "x://y/V/"]),
              st.text(TOKEN_CHARS, min_size=86, max_size=400)).map("".join),
    st.text("0123456789", min_size=86, max_size=1300),
))
def test_verify_offline_never_raises_on_arbitrary_text(text):
    assert verify_offline(text, TRUST, STATUS, NOW).result in ("not_ours", "forged")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_check_token_never_raises_on_arbitrary_bytes(blob):
    assert check_token(blob, TRUST, STATUS, NOW).result == "forged"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(TOKEN) - 1), st.integers(1, 255))
def test_check_token_forged_for_any_changed_byte(at, xor):
    tampered = bytearray(TOKEN)
    tampered[at] ^= xor
    assert check_token(bytes(tampered), TRUST, STATUS, NOW).result == "forged"


# --- the documents ---------------------------------------------------------------------------


@pytest.mark.parametrize("change", [
    {"x": b64url_encode(make_key().public_raw)},  # kid no longer the key's hash
    {"alg": "ES256"},
    {"crv": "P-256"},
    {"kid": "AAAA"},
    {"status": "revoked"},
    {"not_before": "2024-06-01"},
    {"not_before": "yesterday"},
    {"not_after": 1735689600},
    {"not_after": "2024-05-31T23:59:59Z"},  # before not_before
    {"organization_id": None},
    {"accreditations": [{"category": "diving", "valid_from": "2024-01-01",
                         "valid_until": "2025-01-01"}]},
    {"accreditations": [{"category": "welding", "valid_from": "2025-01-02",
                         "valid_until": "2025-01-01"}]},
    {"accreditations": [{"category": "welding", "valid_from": "2025-02-30",
                         "valid_until": "2026-01-01"}]},
])
def test_trust_index_refuses_nonsense_keys(change):
    with pytest.raises(ValueError):
        TrustIndex.from_document(trust_document(ROOT, key_entry(ISSUER, **change)))


def test_trust_index_refuses_nonsense_documents():
    for doc in (None, [], {}, trust_document(ROOT, key_entry(ISSUER), key_entry(ISSUER)),
                {**trust_document(ROOT), "categories": [{"code": "x", "token_code": True,
                                                         "name": "x"}]}):
        with pytest.raises(ValueError):
            TrustIndex.from_document(doc)


@pytest.mark.parametrize("no_review", [
    None,
    "2026-06-01",
    {"from": "2026-06-01", "until": None},
    ["2026-06-01", None],
    [["2026-06-01"]],
    [["2026-06-01", None, None]],
    [[20260601, None]],
    [[None, None]],
    [[True, None]],
    [["2026-06-01", False]],
    [["2026-06-01", 0]],
    [["2026-6-01", None]],
    [["2026-02-30", None]],
    [["2026-06-01T00:00:00Z", None]],
    [["2026-06-01", "2026-05-31"]],  # ends before it starts
    [["2026-06-01", None], ["2027-01-01", None]],  # after an open span
    [["2027-01-01", "2027-12-31"], ["2026-01-01", "2026-12-31"]],  # out of order
    [["2026-01-01", "2026-06-30"], ["2026-06-30", None]],  # overlapping by a day
], ids=repr)
def test_trust_index_refuses_malformed_no_review(no_review):
    with pytest.raises(ValueError):
        rules_trust(welding_spans(no_review))


@pytest.mark.parametrize("no_review", [
    [],
    [["2026-06-01", "2026-06-01"]],
    [["2026-01-01", "2026-05-31"], ["2026-06-01", None]],  # adjacent
])
def test_trust_index_accepts_well_formed_no_review(no_review):
    trust = rules_trust(welding_spans(no_review))
    assert len(trust.no_review.get(3, ())) == len(no_review)


def test_trust_index_indexes_keys_by_kid_with_a_ready_verify_key():
    entry = TRUST.keys[ISSUER.kid]
    decoded = decode(TOKEN)
    assert entry.verify_key.verify(decoded.sig_structure, decoded.signature)
    assert TRUST.categories == {3: "welding", 1: "electrical"}


_PINS = sorted(hashlib.sha256(x).digest()[:16] for x in (TOKEN, sign_token(ISSUER, make_claims())))
_BAD_PINS = [
    {"digest": "sha256-128", "count": 2, "digests": b64url_encode(_PINS[1] + _PINS[0])},  # not sorted
    {"digest": "sha256-128", "count": 2, "digests": b64url_encode(_PINS[0] + _PINS[0])},  # repeated
    {"digest": "sha256-128", "count": 3, "digests": b64url_encode(_PINS[0] + _PINS[1])},  # wrong count
    {"digest": "sha256-128", "count": 1, "digests": b64url_encode(_PINS[0] + _PINS[1][:8])},  # ragged
    {"digest": "sha512-128", "count": 2, "digests": b64url_encode(_PINS[0] + _PINS[1])},  # unknown digest
    {"digest": "sha256-128", "count": True, "digests": b64url_encode(_PINS[0])},
    {"digest": "sha256-128", "count": 1, "digests": b64url_encode(_PINS[0]) + "="},
    {"digest": "sha256-128", "count": 1},
    "not an object",
]


@pytest.mark.parametrize("doc", [
    status_document(ROOT, revoked=["not a serial"]),
    status_document(ROOT, suspended=[12345]),
    status_document(ROOT, compromised_keys=[{**compromised_entry(ISSUER), "kid": b64url_encode(b"short")}]),
    status_document(ROOT, compromised_keys=[compromised_entry(ISSUER), compromised_entry(ISSUER)]),
    status_document(ROOT, compromised_keys=[{"kid": b64url_encode(ISSUER.kid), "compromised_at": "2025-05-01T00:00:00Z",
                                             "allowed_serials": [CLAIMS.serial_text]}]),  # serials alone: refused
    *[status_document(ROOT, compromised_keys=[{**compromised_entry(ISSUER, TOKEN, sign_token(ISSUER, make_claims())),
                                               "pinned_tokens": pinned}]) for pinned in _BAD_PINS],
    {"issued_at": "2025-06-01T00:00:00Z", "revoked": []},
])
def test_status_index_refuses_nonsense(doc):
    with pytest.raises(ValueError):
        StatusIndex.from_document(doc)


def test_status_index_indexes_serials_as_bytes():
    index = StatusIndex.from_document(status_document(ROOT, revoked=[CLAIMS.serial_text]))
    assert CLAIMS.serial in index.revoked and not index.suspended


def test_verify_document_signature_accepts_the_signed_document():
    doc = trust_document(ROOT, key_entry(ISSUER))
    assert verify_document_signature(doc, ROOT.public_raw)
    assert sign_document_bytes(doc) == verdict_module.sign_document_bytes(dict(doc))


@pytest.mark.parametrize("tamper", [
    lambda doc: {**doc, "issued_at": "2030-01-01T00:00:00Z"},
    lambda doc: {**doc, "signature": {**doc["signature"], "alg": "ES256"}},
    lambda doc: {**doc, "signature": {**doc["signature"], "value": "AAAA"}},
    lambda doc: {**doc, "signature": {**doc["signature"], "kid": b64url_encode(bytes(8))}},
    lambda doc: {**doc, "signature": None},
    lambda doc: {k: v for k, v in doc.items() if k != "signature"},
    lambda doc: {**doc, "extra": float("nan")},
    lambda doc: "not a document",
])
def test_verify_document_signature_refuses_tampered_documents(tamper):
    assert not verify_document_signature(tamper(trust_document(ROOT)), ROOT.public_raw)


def test_verify_document_signature_refuses_another_key():
    doc = signed({"issued_at": "2025-06-01T00:00:00Z"}, make_key())
    assert not verify_document_signature(doc, ROOT.public_raw)
    assert not verify_document_signature(trust_document(ROOT), b"short")


# --- messages --------------------------------------------------------------------------------


def test_messages_word_every_reason_code_in_chinese_and_english():
    codes = {"not_our_code", *verdict_module._FORGED}
    codes |= {code for reasons in verdict_module._REASONS.values() for code in reasons}
    assert codes <= set(MESSAGES)  # the online verdict adds codes of its own
    for code in MESSAGES:
        assert message(code, "zh") and message(code, "en") != message(code, "zh")


def test_message_falls_back_to_chinese_and_refuses_unknown_codes():
    assert message("bad_signature", "fr") == MESSAGES["bad_signature"]["zh"]
    with pytest.raises(KeyError):
        message("no_such_code")
