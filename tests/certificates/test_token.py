"""The token codec: strict decoding, serials, dates, QR text (docs/token.md)."""

import dataclasses
import hashlib
import re
from datetime import date, datetime, timedelta, timezone

import cbor2
import pytest
from hypothesis import given, settings, strategies as st
from pycose.keys import OKPKey
from pycose.messages import Sign1Message

from certificates.token import (
    MAX_TOKEN_BYTES,
    CertificateClaims,
    MalformedToken,
    assemble,
    b64url_decode,
    b64url_encode,
    date_to_epoch_end,
    decode,
    encode_payload,
    epoch_end_to_date,
    extract_token,
    kid_for,
    new_serial,
    parse_serial,
    protected_header,
    qr_text,
    serial_text,
    sig_structure,
    sign_document_bytes,
)
from tests.tokens import key_entry, make_claims, make_key, sign_raw, sign_token

KEY = make_key()
CLAIMS = make_claims()
TOKEN = sign_token(KEY, CLAIMS)
CST = timezone(timedelta(hours=8))
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def claims_map(changes: dict = {}, certificate: dict = {}) -> dict:  # noqa: B006 (read only)
    """The claims as cbor2 would see them, for building payloads we never issue; a change to
    None removes that claim."""
    inner = {1: 3, 2: "王建国", 3: "410881********123X", 4: 1830297600} | certificate
    claims = {1: "3f2a9c0d1e4b5a67", 4: 1925049600, 6: 1735689600, 7: bytes(10),
              -65537: {k: v for k, v in inner.items() if v is not None}} | changes
    return {k: v for k, v in claims.items() if v is not None}


def token_with_payload(payload: bytes) -> bytes:
    protected = protected_header(KEY.kid)
    return assemble(protected, payload, KEY.sign(sig_structure(protected, payload)))


# --- encoding and decoding -----------------------------------------------------------------


def test_decode_round_trip_returns_the_claims():
    decoded = decode(TOKEN)
    assert decoded.claims == CLAIMS
    assert decoded.kid == KEY.kid
    assert decoded.protected == protected_header(KEY.kid)
    assert decoded.payload == encode_payload(CLAIMS)
    assert decoded.sig_structure == sig_structure(decoded.protected, decoded.payload)
    KEY.private.public_key().verify(decoded.signature, decoded.sig_structure)


def test_decode_claims_behave_as_a_normal_frozen_dataclass():
    claims = decode(TOKEN).claims
    rebuilt = CertificateClaims(**dataclasses.asdict(claims))
    assert claims == rebuilt and hash(claims) == hash(rebuilt) and repr(claims) == repr(rebuilt)
    with pytest.raises(dataclasses.FrozenInstanceError):
        claims.holder_name = "李四"


def test_assemble_matches_an_independent_cbor_encoding():
    decoded = decode(TOKEN)
    assert TOKEN == cbor2.dumps(cbor2.CBORTag(18, [decoded.protected, {}, decoded.payload,
                                                   decoded.signature]))
    assert decoded.sig_structure == cbor2.dumps(["Signature1", decoded.protected, b"",
                                                 decoded.payload])
    assert cbor2.loads(decoded.protected) == {1: -8, 4: KEY.kid}


def test_pycose_verifies_our_token_with_the_trust_list_key():
    message = Sign1Message.decode(TOKEN)
    message.key = OKPKey(crv="Ed25519", x=b64url_decode(key_entry(KEY)["x"]))
    assert message.verify_signature()
    assert cbor2.loads(message.payload)[7] == CLAIMS.serial


def test_pycose_rejects_our_token_under_another_key():
    message = Sign1Message.decode(TOKEN)
    message.key = OKPKey(crv="Ed25519", x=make_key().public_raw)
    assert not message.verify_signature()


def test_kid_for_is_the_first_eight_bytes_of_sha256():
    assert kid_for(KEY.public_raw) == hashlib.sha256(KEY.public_raw).digest()[:8]
    with pytest.raises(ValueError):
        kid_for(b"short")


def test_decode_refuses_oversized_input_before_parsing():
    valid_start = TOKEN + bytes(MAX_TOKEN_BYTES + 1 - len(TOKEN))
    for blob in (valid_start, bytes(10 * 2**20)):
        with pytest.raises(MalformedToken) as caught:
            decode(blob)
        assert caught.value.reason == "too_large"


@pytest.mark.parametrize("blob", [
    TOKEN[1:],  # untagged
    b"\xd1" + TOKEN[1:],  # tag 17, COSE_Mac0
    b"\xd8\x12" + TOKEN[1:],  # tag 18 written in two bytes
    b"\xd2\x83" + TOKEN[2:],  # array of 3
    b"\xd2\x85" + TOKEN[2:] + b"\x40",  # array of 5
    b"",
    b"\xd2",
])
def test_decode_refuses_other_envelopes(blob):
    with pytest.raises(MalformedToken):
        decode(blob)


@pytest.mark.parametrize("blob", [TOKEN + b"\x00", TOKEN[:-1], TOKEN[:100], TOKEN[:17]])
def test_decode_refuses_trailing_or_missing_bytes(blob):
    with pytest.raises(MalformedToken):
        decode(blob)


@pytest.mark.parametrize("protected", [
    {1: -7, 4: KEY.kid},  # ES256
    {1: "EdDSA", 4: KEY.kid},
    {1: -8, 4: KEY.kid, 3: 0},  # an extra header
    {4: KEY.kid, 1: -8},  # same map, other order
    {1: -8},
    {1: -8, 4: KEY.kid[:7]},
    {},
])
def test_decode_refuses_any_other_protected_header(protected):
    with pytest.raises(MalformedToken):
        decode(sign_raw(KEY, protected, claims_map()))


def test_decode_refuses_a_non_empty_unprotected_header():
    with pytest.raises(MalformedToken) as caught:
        decode(sign_raw(KEY, {1: -8, 4: KEY.kid}, claims_map(), unprotected={1: -8}))
    assert caught.value.reason == "unprotected_header_not_empty"


def test_decode_accepts_the_same_claims_built_by_cbor2():
    assert decode(sign_raw(KEY, {1: -8, 4: KEY.kid}, claims_map())).claims.category_code == 3


@pytest.mark.parametrize("signature", [bytes(63), bytes(65)])
def test_decode_refuses_a_signature_not_64_bytes(signature):
    decoded = decode(TOKEN)
    blob = cbor2.dumps(cbor2.CBORTag(18, [decoded.protected, {}, decoded.payload, signature]))
    with pytest.raises(MalformedToken):
        decode(blob)


@pytest.mark.parametrize("claims", [
    claims_map({1: None}),  # no iss
    claims_map({4: None}),
    claims_map({-65537: None}),
    claims_map({5: 1735689600}),  # an extra claim (nbf)
    claims_map({}, {5: "extra"}),
    claims_map({}, {4: None}),
    claims_map({1: 12345}),
    claims_map({1: ""}),
    claims_map({4: "2031-01-01"}),
    claims_map({6: -1}),
    claims_map({6: True}),
    claims_map({6: 1.5}),
    claims_map({6: 2**64}),
    claims_map({7: bytes(9)}),
    claims_map({7: "0000-0000-0000-0000"}),
    claims_map({}, {1: "welding"}),
    claims_map({}, {2: b"\xe7\x8e\x8b"}),
    [1, 2, 3],
])
def test_decode_refuses_claims_we_never_issue(claims):
    with pytest.raises(MalformedToken):
        decode(sign_raw(KEY, {1: -8, 4: KEY.kid}, claims))


@pytest.mark.parametrize("short, long", [
    (b"\x04\x1a", b"\x04\x1b\x00\x00\x00\x00"),  # exp in 8 bytes where 4 suffice
    (b"\xa4\x01\x03", b"\xa4\x01\x18\x03"),  # category 3 in two bytes
    (b"\xa5\x01\x70", b"\xa5\x01\x78\x10"),  # a 16-byte text's length in two bytes
])
def test_decode_refuses_non_deterministic_lengths(short, long):
    good = encode_payload(CLAIMS)
    assert decode(token_with_payload(good)).claims == CLAIMS
    with pytest.raises(MalformedToken):
        decode(token_with_payload(good.replace(short, long, 1)))


def test_decode_refuses_broken_utf8_and_trailing_payload_bytes():
    good = encode_payload(CLAIMS)
    name = "王建国".encode()
    for bad in (good.replace(name, b"\xff" + name[1:]), good + b"\x00"):
        with pytest.raises(MalformedToken):
            decode(token_with_payload(bad))


def test_decode_accepts_bytearray_and_memoryview_but_not_other_types():
    assert decode(bytearray(TOKEN)).claims == CLAIMS
    assert decode(memoryview(TOKEN)).claims == CLAIMS
    for wrong in (TOKEN.hex(), 5, None, [TOKEN]):
        with pytest.raises(MalformedToken):
            decode(wrong)


@pytest.mark.parametrize("change", [
    {"serial": bytes(9)},
    {"category_code": -1},
    {"category_code": True},
    {"holder_name": ""},
    {"holder_id_masked": None},
    {"expires_at": 2**64},
])
def test_encode_payload_refuses_claims_a_verifier_would_refuse(change):
    with pytest.raises(ValueError):
        encode_payload(dataclasses.replace(CLAIMS, **change))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_decode_raises_only_malformed_token_on_arbitrary_bytes(blob):
    try:
        decode(blob)
    except MalformedToken:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(TOKEN) - 1), st.integers(0, 255), st.integers(0, len(TOKEN)))
def test_decode_raises_only_malformed_token_on_mutated_tokens(at, value, cut):
    blob = (TOKEN[:at] + bytes((value,)) + TOKEN[at + 1:])[:cut]
    try:
        decoded = decode(blob)
    except MalformedToken:
        return
    assert encode_payload(decoded.claims) == decoded.payload


# --- serials and dates -----------------------------------------------------------------------


def test_serial_text_is_four_groups_of_crockford_base32():
    assert serial_text(bytes(10)) == "0000-0000-0000-0000"
    assert serial_text(b"\xff" * 10) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}",
                        serial_text(new_serial()))
    with pytest.raises(ValueError):
        serial_text(bytes(9))


def test_new_serial_is_ten_fresh_random_bytes():
    serials = {new_serial() for _ in range(100)}
    assert len(serials) == 100 and all(len(s) == 10 for s in serials)


@given(st.binary(min_size=10, max_size=10))
def test_parse_serial_round_trips_serial_text(raw):
    text = serial_text(raw)
    assert parse_serial(text) == raw
    assert CertificateClaims(raw, "x", 1, "x", "x", 0, 0, 0).serial_text == text


@pytest.mark.parametrize("typed", [
    "7k3m-9qx2-hd5t-wr4a",
    "7K3M9QX2HD5TWR4A",
    " 7K3M 9QX2 HD5T WR4A ",
    "7K3M–9QX2—HD5T－WR4A",  # dashes an input method may type
    "７Ｋ３Ｍ－９ＱＸ２－ＨＤ５Ｔ－ＷＲ４Ａ",  # full-width
])
def test_parse_serial_forgives_how_people_type(typed):
    assert parse_serial(typed) == parse_serial("7K3M-9QX2-HD5T-WR4A")


def test_parse_serial_reads_i_l_as_one_and_o_as_zero():
    assert parse_serial("ILOO-0000-0000-0000") == parse_serial("1100-0000-0000-0000")


@pytest.mark.parametrize("text", ["", "7K3M-9QX2-HD5T-WR4", "7K3M-9QX2-HD5T-WR4AA",
                                  "7K3M-9QX2-HD5T-WR4U", "7K3M-9QX2-HD5T-WR4*", "x" * 10000,
                                  None, 1234])
def test_parse_serial_returns_none_for_non_serials(text):
    assert parse_serial(text) is None


def test_date_to_epoch_end_is_midnight_china_time_after_the_day():
    expected = datetime(2031, 1, 2, tzinfo=CST).timestamp()
    assert date_to_epoch_end(date(2031, 1, 1)) == expected
    assert epoch_end_to_date(expected) == date(2031, 1, 1)
    assert epoch_end_to_date(expected - 1) == date(2030, 12, 31)


@given(st.dates(min_value=date(1970, 1, 2), max_value=date(2200, 1, 1)))
def test_epoch_end_to_date_inverts_date_to_epoch_end(day):
    assert epoch_end_to_date(date_to_epoch_end(day)) == day


# --- QR text and base64url -----------------------------------------------------------------


def test_qr_text_is_upper_case_base_then_decimal_token():
    text = qr_text(TOKEN, "https://anzheng.example.cn/")
    assert text.startswith("HTTPS://ANZHENG.EXAMPLE.CN/V/")
    assert int(text.rsplit("/", 1)[1]) == int.from_bytes(TOKEN, "big")
    assert set(text) <= QR_ALPHANUMERIC


def test_qr_text_refuses_what_decimal_cannot_carry():
    for blob in (b"\x00" + TOKEN, b"", b"\xd2" * (MAX_TOKEN_BYTES + 1)):
        with pytest.raises(ValueError):
            qr_text(blob, "https://a.cn")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=MAX_TOKEN_BYTES - 1), st.sampled_from(
    ["http://127.0.0.1:5000", "https://anzheng.example.cn/", "https://gov.example/az/"]))
def test_qr_text_round_trips_any_token_starting_d2(rest, base_url):
    token = b"\xd2" + rest
    assert extract_token(qr_text(token, base_url)) == (True, token)


@pytest.mark.parametrize("text", [
    qr_text(TOKEN, "http://127.0.0.1:5000"),
    qr_text(TOKEN, "https://a.cn").lower(),
    "https://anywhere.example/v/" + str(int.from_bytes(TOKEN, "big")),
    "https://anzheng.example.cn/V/" + b64url_encode(TOKEN),
    b64url_encode(TOKEN),
    str(int.from_bytes(TOKEN, "big")),
    "  " + b64url_encode(TOKEN) + "\r\n",
])
def test_extract_token_reads_every_documented_form(text):
    assert extract_token(text) == (True, TOKEN)


@pytest.mark.parametrize("text", [
    "410881199001011234",  # a resident identity card number
    "https://zwfw.mem.gov.cn/cert/query?certNo=T410881199001011234",
    "https://example.com/v/about?x=1",
    "https://example.com/V/",
    "hello",
    "",
    "   ",
    "安全生产特种作业操作证 T410881199001011234",
    "٣" * 200,  # Arabic-Indic digits are digits to Python, not to us
    "\x00\xff\ufffd" * 40,
    "1" * 85,
])
def test_extract_token_says_not_ours_for_foreign_text(text):
    assert extract_token(text) == (False, None)


@pytest.mark.parametrize("text", [
    "HTTP://A.CN/V/" + "9" * 1300,  # more digits than 512 bytes need
    "9" * 1234,  # 10**1234 needs 513 bytes
    "0" * 200,
    "A" * 89,  # base64url of impossible length (4n + 1)
    b64url_encode(TOKEN)[:-1] + "B",  # non-canonical last character
    "HTTPS://A.CN/V/" + "A" * 5,
])
def test_extract_token_is_ours_but_unreadable(text):
    assert extract_token(text) == (True, None)


def test_extract_token_caps_text_length_before_work():
    assert extract_token("9" * 100_000) == (True, None)
    assert extract_token("HTTPS://A.CN/V/" + "1" * 10**6) == (True, None)
    assert extract_token("好" * 10**7) == (False, None)
    assert extract_token("https://example.com/" + "x" * 5000) == (False, None)


def test_extract_token_refuses_non_text():
    for value in (None, TOKEN, 12345):
        assert extract_token(value) == (False, None)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.tuples(st.sampled_from(["", "https://a.cn/v/", "HTTP://A.CN/V/", "x://y/z/V/", "s://"]),
              st.text("0123456789ABCXYZabcxyz_-/:.", max_size=400)).map("".join),
))
def test_extract_token_never_raises(text):
    ours, token = extract_token(text)
    assert token is None or (ours and 0 < len(token) <= MAX_TOKEN_BYTES)


@given(st.binary(max_size=100))
def test_b64url_round_trips_unpadded(raw):
    text = b64url_encode(raw)
    assert "=" not in text and b64url_decode(text) == raw


@pytest.mark.parametrize("text", ["AA==", "A+B/", "AAB", "AAAAA", "AB", "  ", None])
def test_b64url_decode_refuses_non_canonical_or_foreign_text(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_sign_document_bytes_is_canonical_json_without_the_signature():
    doc = {"b": [1, "二"], "a": None, "signature": {"value": "x"}}
    assert sign_document_bytes(doc) == '{"a":null,"b":[1,"二"]}'.encode()
