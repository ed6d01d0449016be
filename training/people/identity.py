"""Identity data: resident identity numbers and unified social credit codes.

Role: validate and normalise identity numbers (GB 11643-1999) and unified social credit
codes (GB 32100-2015); mask identity numbers for display; protect them for storage (a keyed
lookup hash, and AES-256-GCM where the number must be recoverable); generate valid numbers
for demo data and tests; give province capitals for the "trained far from home" rule.

Must not: import Flask or the database; log, print, or put an identity number into an
exception message; contain a literal valid identity number (they are generated at run time,
and the published examples live under tests/). Pure functions and one small class only.
"""

import math
import re
import unicodedata
from datetime import date, timedelta
from typing import NamedTuple

from training import clock

_MESSAGES = {
    "id_number_format": (
        "An identity number has 18 characters: 17 digits, then a digit or X.",
        "公民身份号码应为18位：17位数字，最后一位为数字或X。"),
    "id_number_region": (
        "The first two digits are not a province-level region code.",
        "前两位不是有效的省级行政区划代码。"),
    "id_number_birth_date": (
        "Characters 7 to 14 are not a real birth date between 1900-01-01 and today.",
        "第7至14位不是1900年1月1日至今日之间的有效出生日期。"),
    "id_number_check": (
        "The last character does not match the rest; a character was probably mistyped.",
        "校验码与前17位不符，可能有字符输错。"),
    "credit_code_format": (
        "A unified social credit code has 18 digits or capitals (not I, O, Z, S, V), starting "
        "with an authority and type from GB 32100-2015 and a six-digit division code.",
        "统一社会信用代码应为18位（数字或除I、O、Z、S、V外的大写字母），前两位为"
        "登记管理部门码和机构类别码，第3至8位为行政区划码。"),
    "credit_code_check": (
        "The last character does not match the rest; a character was probably mistyped.",
        "校验码与前17位不符，可能有字符输错。"),
}


class IdentityError(ValueError):
    """A refused identity number or credit code. Never carries the refused value itself."""

    def __init__(self, code: str):
        self.code = code
        self.message, self.message_zh = _MESSAGES[code]
        super().__init__(self.message)


class Province(NamedTuple):
    name: str
    lat: float  # the capital's, in degrees; good to a few kilometres
    lon: float


PROVINCES = {
    "11": Province("北京市", 39.90, 116.41), "12": Province("天津市", 39.13, 117.20),
    "13": Province("河北省", 38.04, 114.51), "14": Province("山西省", 37.87, 112.55),
    "15": Province("内蒙古自治区", 40.84, 111.75), "21": Province("辽宁省", 41.81, 123.43),
    "22": Province("吉林省", 43.82, 125.32), "23": Province("黑龙江省", 45.80, 126.53),
    "31": Province("上海市", 31.23, 121.47), "32": Province("江苏省", 32.06, 118.80),
    "33": Province("浙江省", 30.27, 120.16), "34": Province("安徽省", 31.82, 117.23),
    "35": Province("福建省", 26.07, 119.30), "36": Province("江西省", 28.68, 115.86),
    "37": Province("山东省", 36.65, 117.12), "41": Province("河南省", 34.75, 113.63),
    "42": Province("湖北省", 30.59, 114.31), "43": Province("湖南省", 28.23, 112.94),
    "44": Province("广东省", 23.13, 113.26), "45": Province("广西壮族自治区", 22.82, 108.37),
    "46": Province("海南省", 20.04, 110.20), "50": Province("重庆市", 29.56, 106.55),
    "51": Province("四川省", 30.57, 104.07), "52": Province("贵州省", 26.65, 106.63),
    "53": Province("云南省", 25.04, 102.71), "54": Province("西藏自治区", 29.65, 91.17),
    "61": Province("陕西省", 34.34, 108.94), "62": Province("甘肃省", 36.06, 103.83),
    "63": Province("青海省", 36.62, 101.78), "64": Province("宁夏回族自治区", 38.49, 106.23),
    "65": Province("新疆维吾尔自治区", 43.83, 87.62), "71": Province("台湾省", 25.03, 121.57),
    "81": Province("香港特别行政区", 22.32, 114.17),
    "82": Province("澳门特别行政区", 22.20, 113.54),
}

# Residence permits for Hong Kong, Macao and Taiwan residents (2018 rules) carry identity
# numbers with the address codes 810000, 820000 and 830000; 83 is accepted and placed at
# Taiwan's capital for distances. A foreign permanent resident's card (2023 edition) also has
# 18 characters and a MOD 11-2 check, but starts with 9 and is refused: the digits after the 9
# are where it was applied for and a nationality, so "home region" would be meaningless. It
# needs a document type of its own, not a wider validator.
_PROVINCE_ALIASES = {"83": "71"}
_ID_PROVINCES = frozenset(PROVINCES) | frozenset(_PROVINCE_ALIASES)

# Real county-level codes (GB/T 2260, checked against a current list) for demo data: a few
# per province, more from Henan, Anhui and Sichuan, which send many workers away, and from
# Guangdong, which receives many, so the far-from-home rule has something to find.
DEMO_COUNTY_CODES = tuple("""
    110101 110105 110108 120116 130102 130681 131082 140105 140702 150102 150602
    210102 210202 220102 230102 230602 310101 310115 320102 320583 321323 330106
    330782 340104 341221 341321 341522 341623 350102 350583 360102 360731 370102
    370283 371321 410102 410181 411302 411503 411625 411628 411723 420106 421126
    430104 430524 431021 440106 440305 440604 441900 445281 450103 460105 500101
    500103 500235 510107 510623 511321 511623 513401 520102 520526 530102 532901
    540102 610113 610802 620102 630102 640104 650102 652301
""".split())

EARLIEST_BIRTH = date(1900, 1, 1)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # ISO 7064 MOD 11-2
_ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)


def _clean(value) -> str:
    # NFKC folds full-width digits and letters, which Chinese input methods often produce.
    if not isinstance(value, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _id_check_char(body: str) -> str:
    return _ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11]


def _birth_date_ok(digits: str, today: date) -> bool:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return EARLIEST_BIRTH <= born <= today


def normalize_id_number(value: str, *, today: date | None = None) -> str:
    """The 18-character resident identity number, spaces removed and X upper-cased.

    `today` defaults to the date in China, where the numbers are issued.
    """
    number = _clean(value)
    if not _ID_SHAPE.fullmatch(number):
        raise IdentityError("id_number_format")
    if number[:2] not in _ID_PROVINCES:
        raise IdentityError("id_number_region")
    if not _birth_date_ok(number[6:14], today or clock.today()):
        raise IdentityError("id_number_birth_date")
    if _id_check_char(number[:17]) != number[17]:
        raise IdentityError("id_number_check")
    return number


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters with 8 `*` between: what a person may be shown."""
    number = normalize_id_number(value)
    return number[:6] + "*" * 8 + number[-4:]


def home_region(id_number: str) -> str:
    """The six-digit county code where the holder's household was registered."""
    return normalize_id_number(id_number)[:6]


def province_of(id_number: str) -> str:
    return normalize_id_number(id_number)[:2]


def province_distance_km(a: str, b: str) -> float:
    """Great-circle distance between the capitals of two province-level codes."""
    try:
        pa = PROVINCES[_PROVINCE_ALIASES.get(a, a)]
        pb = PROVINCES[_PROVINCE_ALIASES.get(b, b)]
    except KeyError:
        raise IdentityError("id_number_region") from None
    lat1, lon1, lat2, lon2 = map(math.radians, (pa.lat, pa.lon, pb.lat, pb.lon))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))  # mean Earth radius, km


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
_CREDIT_VALUES = {c: i for i, c in enumerate(_CREDIT_CHARS)}
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Registration authority (char 1) -> organisation types it may register (char 2), per the
# standard as amended (XG1-2016 added A and N).
_CREDIT_TYPES = {
    "1": "1239",    # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
    "2": "19",      # 外交: 外国常驻新闻机构, 其他
    "3": "123459",  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",      # 文化: 外国在华文化中心, 其他
    "5": "1239",    # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",     # 旅游: 外国旅游部门常驻代表机构, 港澳台旅游部门常驻代表机构, 其他
    "7": "129",     # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",      # 工会: 基层工会, 其他
    "9": "123",     # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",      # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",    # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",       # 其他: not subdivided
}
CREDIT_CODE_KINDS = {
    "enterprise": "91", "individual_business": "92", "farmers_cooperative": "93",
    "government_agency": "11", "public_institution": "12", "social_organisation": "51",
    "private_non_enterprise": "52", "foundation": "53", "law_firm": "31",
}


def _credit_check_char(body: str) -> str:
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(body, _CREDIT_WEIGHTS))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """The 18-character unified social credit code, upper case, spaces removed.

    The organisation code in characters 9-17 carries its own GB 11714 check; it is not
    checked again here, since the code's own check character already covers it.
    """
    code = _clean(value)
    if (len(code) != 18 or any(c not in _CREDIT_VALUES for c in code)
            or code[1] not in _CREDIT_TYPES.get(code[0], "") or not code[2:8].isdigit()):
        raise IdentityError("credit_code_format")
    if _credit_check_char(code[:17]) != code[17]:
        raise IdentityError("credit_code_check")
    return code


def generate_id_number(rng, region=None, birth=None, male=None) -> str:
    """A valid identity number, the same one for the same state of `rng`."""
    region = region if region is not None else rng.choice(DEMO_COUNTY_CODES)
    if birth is None:  # a fixed window, not "today minus n years", keeps seeds reproducible
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(46 * 365))
    if male is None:
        male = rng.choice((True, False))
    sequence = f"{rng.randrange(100):02d}{rng.choice('13579' if male else '02468')}"
    body = f"{region}{birth:%Y%m%d}{sequence}"
    if not re.fullmatch(r"[0-9]{17}", body):
        raise IdentityError("id_number_format")
    return normalize_id_number(body + _id_check_char(body))


def _organisation_code(rng) -> str:
    body = "".join(rng.choice(_CREDIT_CHARS) for _ in range(8))
    remainder = 11 - sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + {10: "X", 11: "0"}.get(remainder, str(remainder))  # GB 11714 check


def generate_credit_code(rng, region=None, kind="enterprise") -> str:
    """A valid unified social credit code for one of CREDIT_CODE_KINDS."""
    if kind not in CREDIT_CODE_KINDS:
        raise ValueError(f"kind must be one of {sorted(CREDIT_CODE_KINDS)}")
    region = region if region is not None else rng.choice(DEMO_COUNTY_CODES)
    body = CREDIT_CODE_KINDS[kind] + str(region) + _organisation_code(rng)
    if len(body) != 17:
        raise IdentityError("credit_code_format")
    return normalize_credit_code(body + _credit_check_char(body))
