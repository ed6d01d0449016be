"""Tests for training.people.identity: validators against published examples, masking,
generators, province distances and the storage protector.

The check-character helpers below are written again from the standards' own tables (not
imported from the module), so a wrong weight in the module cannot make its own test pass.
"""

import hashlib
import hmac
import os
import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings, strategies as st

from training.people import identity
from training.people.identity import (
    CREDIT_CODE_KINDS,
    DEMO_COUNTY_CODES,
    PROVINCES,
    IdentityError,
    generate_credit_code,
    generate_id_number,
    home_region,
    mask_id_number,
    normalize_credit_code,
    normalize_id_number,
    province_distance_km,
    province_of,
)
from training.people.protector import IdentityProtector

# Published valid identity numbers.
#  - GB 11643-1999, Appendix A (公民身份号码实例): a woman born 1949-12-31 in Chaoyang
#    District, Beijing. Text of the standard: zh.wikisource.org "GB 11643-1999 公民身份号码".
#  - Baidu Baike "居民身份证号码", its worked check-digit example (a man, Kunming Wuhua
#    District, born 1920-05-08), also quoted in English-language explanations of the card.
#  - A worked example long circulated with the standard's algorithm ("某男性的身份证号码是
#    34052419800101001X ... 余数是2 ... X"), e.g. kyle.ai/blog/?p=125.
PUBLISHED_ID_NUMBERS = ["11010519491231002X", "53010219200508011X", "34052419800101001X"]
# GB 11643-1999, Appendix A's second example: a man born 1880-01-01 in Chaoyang County,
# Shantou. Its check digit is right, but our policy refuses births before 1900.
STANDARD_1880_EXAMPLE = "440524188001010014"

# Published valid unified social credit codes.
#  - GB 32100-2015's worked check-character example: body 91350100M000100Y4, check
#    character computed as 3 (reproduced e.g. at renrendoc.com/p-47802332.html).
#  - 华为技术有限公司: the infobox of Chinese Wikipedia's article 华为 (機構代碼).
#  - 深圳市腾讯计算机系统有限公司, 小米科技有限责任公司, 北京百度网讯科技有限公司,
#    阿里巴巴(中国)网络技术有限公司: the companies' codes on their public business licences,
#    widely quoted (the national enterprise credit information system is the authority; not
#    re-checked there from here). Each also passes the GB 11714 check of its embedded
#    organisation code, which a mistyped code would do only by chance.
PUBLISHED_CREDIT_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "91440300708461136T",
    "91110108551385082Q",
    "91110000802100433B",
    "91330100716105852F",
]

ID_CHARS = "0123456789X"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 11643-1999 table of weights and check characters.
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
# GB 32100-2015 Table 3 (weights W_i = 3^(i-1) mod 31).
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_id_check(body: str) -> str:
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS))
    return body + "10X98765432"[total % 11]


def with_credit_check(body: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def id_code_of(value, **kwargs) -> str:
    with pytest.raises(IdentityError) as caught:
        normalize_id_number(value, **kwargs)
    return caught.value.code


def credit_code_of(value) -> str:
    with pytest.raises(IdentityError) as caught:
        normalize_credit_code(value)
    return caught.value.code


# --- identity numbers -------------------------------------------------------------------


@pytest.mark.parametrize("number", PUBLISHED_ID_NUMBERS)
def test_normalize_id_number_accepts_published_example(number):
    assert normalize_id_number(number) == number


@pytest.mark.parametrize("number", PUBLISHED_ID_NUMBERS)
def test_normalize_id_number_rejects_every_single_character_corruption(number):
    refused = 0
    for position, original in enumerate(number):
        for replacement in ID_CHARS.replace(original, ""):
            corrupted = number[:position] + replacement + number[position + 1:]
            with pytest.raises(IdentityError):
                normalize_id_number(corrupted)
            refused += 1
    assert refused == 18 * 10


def test_normalize_id_number_refuses_standard_1880_example_on_birth_date_only(monkeypatch):
    assert id_code_of(STANDARD_1880_EXAMPLE) == "id_number_birth_date"
    monkeypatch.setattr(identity, "EARLIEST_BIRTH", date(1880, 1, 1))
    assert normalize_id_number(STANDARD_1880_EXAMPLE) == STANDARD_1880_EXAMPLE


def test_normalize_id_number_lowercase_x_accepted_and_upper_cased():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("typed", [
    " 11010519491231002X ", "110105 19491231 002X", "110105\t1949 1231\n002x",
    "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as Chinese input methods type it
    "110105\u300019491231002X",  # ideographic space
])
def test_normalize_id_number_spaces_and_full_width_removed(typed):
    assert normalize_id_number(typed) == "11010519491231002X"


@pytest.mark.parametrize("value", [
    "", "11010519491231002", "11010519491231002X0", "110105491231002",  # old 15-digit form
    "1101051949123100X2", "X10105194912310022", "11010519491231002Y", "11010519-49123102X",
    None, 11010519491231002, b"11010519491231002X",
])
def test_normalize_id_number_wrong_shape_is_format_error(value):
    assert id_code_of(value) == "id_number_format"


ALLOWED_PROVINCES = (
    [str(n) for n in range(11, 16)] + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)] + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)] + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "83"]
)


@pytest.mark.parametrize("province", ALLOWED_PROVINCES)
def test_normalize_id_number_accepts_every_province_level_code(province):
    number = with_id_check(province + "0101" + "19900101" + "123")
    assert normalize_id_number(number) == number


@pytest.mark.parametrize("province", [f"{n:02d}" for n in range(100)
                                      if f"{n:02d}" not in ALLOWED_PROVINCES])
def test_normalize_id_number_other_province_codes_are_region_errors(province):
    assert id_code_of(with_id_check(province + "0101" + "19900101" + "123")) == "id_number_region"


def test_normalize_id_number_foreign_permanent_resident_card_refused():
    # 2023 cards start with 9; 91 would be read as a province code if we were careless.
    assert id_code_of(with_id_check("911" + "156" + "19900101" + "123")) == "id_number_region"


@pytest.mark.parametrize("birth", [
    "19900230", "19900231", "19900431", "19000229", "19901301", "19900001", "19900100",
    "18991231", "00000000",
])
def test_normalize_id_number_impossible_birth_dates_refused(birth):
    assert id_code_of(with_id_check("110105" + birth + "123")) == "id_number_birth_date"


@pytest.mark.parametrize("birth", ["19000101", "20000229", "19960229", "19491231"])
def test_normalize_id_number_real_birth_dates_at_the_edges_accepted(birth):
    number = with_id_check("110105" + birth + "123")
    assert normalize_id_number(number) == number


def test_normalize_id_number_future_birth_date_refused():
    today = date(2025, 6, 1)
    tomorrow = with_id_check("110105" + "20250602" + "123")
    born_today = with_id_check("110105" + "20250601" + "123")
    assert id_code_of(tomorrow, today=today) == "id_number_birth_date"
    assert normalize_id_number(born_today, today=today) == born_today


def test_normalize_id_number_future_birth_date_refused_by_default_clock():
    next_year = date.today() + timedelta(days=366)
    number = with_id_check("110105" + f"{next_year:%Y%m%d}" + "123")
    assert id_code_of(number) == "id_number_birth_date"


def test_normalize_id_number_wrong_check_character_is_check_error():
    assert id_code_of("110105194912310021") == "id_number_check"
    assert id_code_of("530102192005080110") == "id_number_check"


def test_identity_error_never_repeats_the_refused_number():
    for value in ("110105194912310021", "110105199002300012", "000105194912310020"):
        with pytest.raises(IdentityError) as caught:
            normalize_id_number(value)
        error = caught.value
        for text in (str(error), repr(error), error.message, error.message_zh):
            assert value[:14] not in text


@pytest.mark.parametrize("code", sorted(identity._MESSAGES))
def test_identity_error_has_code_and_both_messages(code):
    error = IdentityError(code)
    assert isinstance(error, ValueError)
    assert error.code == code and str(error) == error.message
    assert error.message.isascii() and not error.message_zh.isascii()


# --- masking and regions ----------------------------------------------------------------


def test_mask_id_number_first_six_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("53010219200508011X") == "530102********011X"


def test_mask_id_number_normalizes_before_masking():
    assert mask_id_number(" 11010519491231002x") == "110105********002X"


def test_mask_id_number_refuses_invalid_number():
    with pytest.raises(IdentityError):
        mask_id_number("110105194912310021")


def test_home_region_and_province_of_read_the_address_code():
    assert home_region("53010219200508011X") == "530102"
    assert province_of("53010219200508011X") == "53"
    assert province_of("34052419800101001x") == "34"
    with pytest.raises(IdentityError):
        home_region("530102192005080110")


# --- credit codes -----------------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_normalize_credit_code_accepts_published_example(code):
    assert normalize_credit_code(code) == code


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_normalize_credit_code_rejects_every_single_character_corruption(code):
    refused = 0
    for position, original in enumerate(code):
        for replacement in CREDIT_CHARS.replace(original, ""):
            corrupted = code[:position] + replacement + code[position + 1:]
            with pytest.raises(IdentityError):
                normalize_credit_code(corrupted)
            refused += 1
    assert refused == 18 * 30


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_normalize_credit_code_lowercase_accepted_and_upper_cased(code):
    assert normalize_credit_code(code.lower()) == code
    assert normalize_credit_code(f" {code[:9]} {code[9:].lower()} ") == code


@pytest.mark.parametrize("letter", "IOZSV")
def test_normalize_credit_code_forbidden_letters_are_format_errors(letter):
    assert credit_code_of("91350100M000100" + letter + "43") == "credit_code_format"


@pytest.mark.parametrize("value", [
    "", "91350100M000100Y4", "91350100M000100Y433", None, 913501, "91350100M000100Y4-",
])
def test_normalize_credit_code_wrong_shape_is_format_error(value):
    assert credit_code_of(value) == "credit_code_format"


# GB 32100-2015 (with XG1-2016): registration authority code -> organisation type codes.
STANDARD_TYPES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}
STANDARD_PAIRS = [a + t for a, types in STANDARD_TYPES.items() for t in types]


@pytest.mark.parametrize("pair", STANDARD_PAIRS)
def test_normalize_credit_code_accepts_every_authority_and_type_in_the_standard(pair):
    code = with_credit_check(pair + "110108" + "551385082")
    assert normalize_credit_code(code) == code


def test_normalize_credit_code_other_authority_and_type_are_format_errors():
    refused = 0
    for pair in (a + t for a in CREDIT_CHARS for t in CREDIT_CHARS):
        if pair not in STANDARD_PAIRS:
            code = with_credit_check(pair + "110108" + "551385082")
            assert credit_code_of(code) == "credit_code_format", pair
            refused += 1
    assert refused == 31 * 31 - len(STANDARD_PAIRS)


def test_normalize_credit_code_division_must_be_digits():
    assert credit_code_of(with_credit_check("91" + "11A108" + "551385082")) == "credit_code_format"


def test_normalize_credit_code_wrong_check_character_is_check_error():
    assert credit_code_of("91350100M000100Y42") == "credit_code_check"
    # The standard's worked example of a bad code ends in Z, which is not even in the set.
    assert credit_code_of("91350100M000100Y4Z") == "credit_code_format"
    assert credit_code_of("914403001922038217") == "credit_code_check"


# --- generators -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**64))
def test_generate_id_number_valid_and_deterministic_for_any_seed(seed):
    number = generate_id_number(random.Random(seed))
    assert normalize_id_number(number) == number
    assert with_id_check(number[:17]) == number
    assert number[:6] in DEMO_COUNTY_CODES
    assert generate_id_number(random.Random(seed)) == number


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**64), st.booleans(),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 12, 31)))
def test_generate_id_number_honours_region_birth_and_sex(seed, male, birth):
    number = generate_id_number(random.Random(seed), region="830000", birth=birth, male=male)
    assert number[:6] == "830000"
    assert number[6:14] == f"{birth:%Y%m%d}"
    assert int(number[16]) % 2 == (1 if male else 0)


@pytest.mark.parametrize("kwargs", [
    {"region": "000000"}, {"region": "11010"}, {"region": "9111xx"},
    {"birth": date(1899, 12, 31)}, {"birth": date.today() + timedelta(days=2)},
])
def test_generate_id_number_refuses_impossible_requests(kwargs):
    with pytest.raises(IdentityError):
        generate_id_number(random.Random(1), **kwargs)


def test_generate_id_number_spreads_over_many_provinces():
    rng = random.Random(7)
    provinces = {generate_id_number(rng)[:2] for _ in range(500)}
    assert len(provinces) >= 25


def test_demo_county_codes_real_shape_and_clustered_in_sending_provinces():
    assert 55 <= len(DEMO_COUNTY_CODES) <= 80
    assert len(set(DEMO_COUNTY_CODES)) == len(DEMO_COUNTY_CODES)
    assert all(re.fullmatch(r"[0-9]{6}", code) and code[:2] in PROVINCES
               for code in DEMO_COUNTY_CODES)
    per_province = [sum(c.startswith(p) for c in DEMO_COUNTY_CODES) for p in PROVINCES]
    assert sum(count >= 4 for count in per_province) >= 3
    assert "411625" in DEMO_COUNTY_CODES and "341221" in DEMO_COUNTY_CODES  # 郸城县, 临泉县


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**64), st.sampled_from(sorted(CREDIT_CODE_KINDS)))
def test_generate_credit_code_valid_and_deterministic_for_any_seed(seed, kind):
    code = generate_credit_code(random.Random(seed), kind=kind)
    assert normalize_credit_code(code) == code
    assert with_credit_check(code[:17]) == code
    assert code[:2] == CREDIT_CODE_KINDS[kind] and code[2:8] in DEMO_COUNTY_CODES
    assert generate_credit_code(random.Random(seed), kind=kind) == code


def test_generate_credit_code_embedded_organisation_code_passes_gb_11714():
    rng = random.Random(3)
    for _ in range(200):
        org = generate_credit_code(rng)[8:17]
        remainder = 11 - sum(int(c, 36) * w
                             for c, w in zip(org, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
        assert org[8] == {10: "X", 11: "0"}.get(remainder, str(remainder))


def test_generate_credit_code_honours_region_and_refuses_bad_ones():
    assert generate_credit_code(random.Random(1), region="100000")[2:8] == "100000"
    for region in ("10000", "1000000", "11A108"):
        with pytest.raises(IdentityError):
            generate_credit_code(random.Random(1), region=region)
    with pytest.raises(ValueError):
        generate_credit_code(random.Random(1), kind="shell_company")


def test_generate_credit_code_kinds_match_the_standard():
    assert all(pair in STANDARD_PAIRS for pair in CREDIT_CODE_KINDS.values())
    assert CREDIT_CODE_KINDS["enterprise"] == "91"


# --- provinces --------------------------------------------------------------------------


def test_provinces_cover_every_province_level_division():
    assert set(PROVINCES) == set(ALLOWED_PROVINCES) - {"83"}
    for name, lat, lon in PROVINCES.values():
        assert name and not name.isascii()
        assert 18 <= lat <= 54 and 73 <= lon <= 135  # inside China's extent


def test_province_distance_km_known_pairs():
    assert 1000 <= province_distance_km("11", "31") <= 1140  # Beijing-Shanghai ~1070 km
    assert 2300 <= province_distance_km("11", "65") <= 2500  # Beijing-Urumqi ~2400 km
    assert province_distance_km("44", "81") < 150  # Guangzhou-Hong Kong


def test_province_distance_km_symmetric_and_zero_on_itself():
    assert province_distance_km("41", "44") == pytest.approx(province_distance_km("44", "41"))
    assert province_distance_km("51", "51") == 0


def test_province_distance_km_taiwan_permit_code_placed_at_taiwan():
    assert province_distance_km("83", "71") == 0
    assert province_distance_km("83", "35") == pytest.approx(province_distance_km("71", "35"))


def test_province_distance_km_unknown_code_refused():
    with pytest.raises(IdentityError):
        province_distance_km("11", "91")


# --- the protector ----------------------------------------------------------------------


HASH_KEY = bytes(range(32))
ENC_KEY = bytes(range(32, 64))


@pytest.fixture
def protector():
    return IdentityProtector(HASH_KEY, ENC_KEY)


def test_identity_protector_round_trip(protector):
    for number in PUBLISHED_ID_NUMBERS:
        assert protector.decrypt(protector.encrypt(number)) == number


def test_identity_protector_encrypt_normalizes_and_uses_fresh_nonces(protector):
    first, second = protector.encrypt("11010519491231002x"), protector.encrypt("11010519491231002X")
    assert first != second and first[:12] != second[:12]
    assert len(first) == 12 + 18 + 16
    assert b"11010519491231002X" not in first
    assert protector.decrypt(first) == protector.decrypt(second) == "11010519491231002X"


def test_identity_protector_ciphertext_is_documented_aes_gcm(protector):
    blob = protector.encrypt("53010219200508011X")
    nonce, sealed = blob[:12], blob[12:]
    plain = AESGCM(ENC_KEY).decrypt(nonce, sealed, b"anzheng:id_number:v1")
    assert plain == b"53010219200508011X"


def test_identity_protector_lookup_hash_is_hmac_sha256_of_normalized_number(protector):
    expected = hmac.new(HASH_KEY, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert protector.lookup_hash("11010519491231002X") == expected
    assert protector.lookup_hash(" 110105 19491231 002x") == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_identity_protector_different_keys_give_different_hashes(protector):
    other = IdentityProtector(bytes(range(1, 33)), ENC_KEY)
    number = "34052419800101001X"
    assert protector.lookup_hash(number) != other.lookup_hash(number)
    assert protector.lookup_hash(number) != protector.lookup_hash("53010219200508011X")


def test_identity_protector_matches_only_the_stored_number(protector):
    stored = protector.lookup_hash("53010219200508011X")
    assert protector.matches("530102 19200508 011x", stored)
    assert not protector.matches("11010519491231002X", stored)
    assert not protector.matches("53010219200508011X", stored[:-1] + "0")
    assert not protector.matches("53010219200508011X", "")


@pytest.mark.parametrize("position", [0, 11, 12, 20, 29, 30, 45])
def test_identity_protector_tampered_ciphertext_refused(protector, position):
    blob = bytearray(protector.encrypt("11010519491231002X"))
    blob[position] ^= 0x01
    with pytest.raises(InvalidTag):
        protector.decrypt(bytes(blob))


def test_identity_protector_wrong_key_truncation_and_other_context_refused(protector):
    blob = protector.encrypt("11010519491231002X")
    with pytest.raises(InvalidTag):
        IdentityProtector(HASH_KEY, bytes(32)).decrypt(blob)
    for short in (b"", blob[:12], blob[:27], blob[:-1]):
        with pytest.raises(InvalidTag):
            protector.decrypt(short)
    nonce = os.urandom(12)
    foreign = nonce + AESGCM(ENC_KEY).encrypt(nonce, b"11010519491231002X", b"other:v1")
    with pytest.raises(InvalidTag):
        protector.decrypt(foreign)


@pytest.mark.parametrize("length", [0, 1, 16, 24, 31, 33, 64])
def test_identity_protector_wrong_key_lengths_refused(length):
    with pytest.raises(ValueError):
        IdentityProtector(os.urandom(length), ENC_KEY)
    with pytest.raises(ValueError):
        IdentityProtector(HASH_KEY, os.urandom(length))


def test_identity_protector_keys_must_be_bytes_and_distinct():
    with pytest.raises(ValueError):
        IdentityProtector("k" * 32, ENC_KEY)
    with pytest.raises(ValueError):
        IdentityProtector(HASH_KEY, None)
    with pytest.raises(ValueError):
        IdentityProtector(HASH_KEY, bytearray(HASH_KEY))
    IdentityProtector(bytearray(HASH_KEY), bytearray(ENC_KEY))  # bytearray is fine


def test_identity_protector_refuses_invalid_numbers_and_hides_keys(protector):
    for method in (protector.encrypt, protector.lookup_hash):
        with pytest.raises(IdentityError):
            method("110105194912310021")
    assert HASH_KEY.hex() not in repr(protector) and "hidden" in repr(protector)


# --- the source rule --------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_TOP_FOLDERS = {"tests", ".git", ".venv", "node_modules", ".hypothesis", ".pytest_cache"}
SKIPPED_SUFFIXES = {".md", ".pyc", ".png", ".jpg", ".pdf", ".sqlite", ".db", ".woff2"}
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def test_source_outside_tests_holds_no_literal_identity_number():
    """Full identity numbers may appear in tests and .md docs only; code generates them."""
    offenders, scanned = [], 0
    for folder, subfolders, files in os.walk(ROOT):
        if Path(folder) == ROOT:
            subfolders[:] = [d for d in subfolders if d not in SKIPPED_TOP_FOLDERS]
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        for name in files:
            path = Path(folder, name)
            if path.suffix in SKIPPED_SUFFIXES:
                continue
            scanned += 1
            for found in CANDIDATE.findall(path.read_text(encoding="utf-8", errors="ignore")):
                try:
                    normalize_id_number(found)
                except IdentityError:
                    continue
                offenders.append(str(path.relative_to(ROOT)))
    assert scanned > 0 and offenders == []


def test_source_rule_scanner_would_find_a_literal():
    assert CANDIDATE.findall('x = "11010519491231002X"') == ["11010519491231002X"]
