"""Plain-language words for every verdict reason code, in Chinese and English.

What a site inspector reads on a phone, so it says what happened and what to do, not how the
check works. It must not decide anything: verdict.py picks the codes, this only words them.
"""

MESSAGES = {
    "not_our_code": {
        "zh": "这不是安证证书的二维码。请确认扫的是证书上印的二维码。",
        "en": "This is not an anzheng certificate code. Make sure you scanned the QR code "
        "printed on the certificate.",
    },
    "malformed_token": {
        "zh": "二维码内容已损坏或被改动，读不出证书。按伪造证书处理。",
        "en": "The code is damaged or has been altered and no certificate can be read from "
        "it. Treat it as forged.",
    },
    "unknown_key": {
        "zh": "签发这张证书的签名不在本机的信任名单中。按伪造证书处理；如本机很久没有联网，"
        "请联网更新信任名单后再扫一次。",
        "en": "The certificate was signed with a key that is not in this device's trust list. "
        "Treat it as forged; if the device has been offline for long, update the trust list "
        "and scan again.",
    },
    "bad_signature": {
        "zh": "证书签名核对不上：内容被改过，或者不是培训机构签发的。按伪造证书处理。",
        "en": "The signature does not match: the certificate was altered or was not issued "
        "by a training body. Treat it as forged.",
    },
    "compromised_key": {
        "zh": "签发这张证书的密钥已经泄露，而这张证书不在泄露前签发的名单里。按伪造证书处理。",
        "en": "The key that signed this certificate was stolen, and this certificate is not "
        "on the list of those issued before that. Treat it as forged.",
    },
    "key_not_valid_at_signing": {
        "zh": "证书的签发时间不在签名密钥的使用期内。按伪造证书处理。",
        "en": "The certificate's issue time is outside the period its signing key was in use. "
        "Treat it as forged.",
    },
    "issuer_mismatch": {
        "zh": "证书上写的签发机构与签名所属的机构不一致。按伪造证书处理。",
        "en": "The issuer named on the certificate is not the body that owns the signing key. "
        "Treat it as forged.",
    },
    "unknown_category": {
        "zh": "证书上的培训类别不在本机的类别名单中。按伪造证书处理；如本机很久没有联网，"
        "请联网更新后再扫一次。",
        "en": "The certificate's training category is not in this device's list. Treat it as "
        "forged; if the device has been offline for long, update it and scan again.",
    },
    "certificate_revoked": {
        "zh": "这张证书已被撤销，不能凭它上岗。",
        "en": "This certificate has been revoked. It does not qualify its holder for the work.",
    },
    "certificate_suspended": {
        "zh": "这张证书已被暂停使用，暂停期间不能凭它上岗。",
        "en": "This certificate is suspended. While suspended it does not qualify its holder "
        "for the work.",
    },
    "issuer_not_accredited": {
        "zh": "签发这张证书时，该培训机构没有这个类别的培训资质，证书无效。",
        "en": "When this certificate was issued, the training body was not accredited for "
        "this category. The certificate is not valid.",
    },
    "certificate_expired": {
        "zh": "证书已过有效期，不能凭它上岗。",
        "en": "The certificate has expired. It does not qualify its holder for the work.",
    },
    "review_overdue": {
        "zh": "证书已过复审期限，证书上没有复审记录。持证人须复审合格后才能上岗。",
        "en": "The certificate's review date has passed and it records no review. The holder "
        "must pass the review before working.",
    },
    "signature_valid": {
        "zh": "证书签名核对无误：由信任名单中的培训机构签发，内容没有被改动。",
        "en": "The signature checks out: the certificate was issued by a training body on the "
        "trust list and has not been altered.",
    },
    "offline_registry_not_checked": {
        "zh": "这是离线核验：只核对了签名和本机保存的撤销、暂停名单。没有查询证书登记库，"
        "名单更新之后的撤销、暂停和检查中发现的问题都没有核对。能联网时请再扫一次。",
        "en": "This was an offline check: only the signature and the revocation and suspension "
        "lists stored on this device were checked. The certificate registry, any status "
        "change since those lists were saved, and inspection findings were not checked. "
        "Scan again when online.",
    },
    "not_in_registry": {
        "zh": "签名正确，但证书登记库中没有这张证书：可能是签发密钥被盗用后伪造的。不能凭它上岗，请报告执法人员。",
        "en": "The signature is correct but the certificate registry has no record of this "
        "certificate: it may have been made with a stolen signing key. It does not qualify its "
        "holder; report it to an inspector.",
    },
    "registry_checked": {
        "zh": "已查询证书登记库：证书状态、有效期和复审日期以登记库为准。",
        "en": "The certificate registry was checked: status, validity and review date are "
        "the registry's.",
    },
    "findings_open": {
        "zh": "这张证书有尚未核实的疑点（如克隆、虚假培训或考试），正在等待监管部门审核。",
        "en": "Unreviewed findings stand against this certificate (such as cloning, fake "
        "training or a fake exam); a regulator has yet to review them.",
    },
    "findings_confirmed": {
        "zh": "监管部门已核实这张证书存在造假问题，不能凭它上岗。",
        "en": "A regulator has confirmed fraud findings against this certificate. It does not "
        "qualify its holder.",
    },
}


def message(code: str, lang: str = "zh") -> str:
    """The words for `code`; an unknown language falls back to Chinese, the inspectors' own.
    An unknown code is a KeyError: every code the verdict emits must have words here."""
    words = MESSAGES[code]
    return words.get(lang, words["zh"])


def reasons(codes, lang: str) -> list[dict]:
    """Reason codes with their words, as every verdict lists them."""
    return [{"code": c, "message": message(c, lang)} for c in codes if c]


def verdict_body(outcome, lang: str) -> dict:
    """The answer every verification gives (an inspector's adds its scan to it), whether the fast
    path or the view answers."""
    return {"result": outcome.result, "reasons": reasons(outcome.reasons, lang), "certificate": outcome.certificate}
