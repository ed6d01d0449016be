"""Plain words for pre-start answers and notices, in Chinese and English.

What a site manager or an agency clerk reads before a first shift: what is wrong and what to do
about it. It must not decide anything (prestart.py and notices.py pick the codes) and it must
never be handed a full identity number (callers pass the masked one).
"""
from __future__ import annotations

MESSAGES = {
    # reasons a check is not cleared
    "missing_certificate": (
        "“{role_name}”岗位需要“{category_name}”证书，该人员没有。须参加培训并考试合格、取得证书后才能上岗。",
        "The role “{role_name}” needs a “{category_name}” certificate and this worker holds none. "
        "They must be trained, pass the exam and hold the certificate before starting."),
    "certificate_revoked": (
        "该人员的“{category_name}”证书（{serial}）已被撤销，不能凭它上岗。",
        "The worker's “{category_name}” certificate ({serial}) has been revoked; it does not qualify them."),
    "certificate_suspended": (
        "该人员的“{category_name}”证书（{serial}）已被暂停使用，暂停期间不能上岗。",
        "The worker's “{category_name}” certificate ({serial}) is suspended; while suspended it does not "
        "qualify them."),
    "certificate_expired": (
        "该人员的“{category_name}”证书（{serial}）已于{valid_until}过期，须重新取证后才能上岗。",
        "The worker's “{category_name}” certificate ({serial}) expired on {valid_until}; they need a new "
        "one before starting."),
    "certificate_expires_before_start": (
        "该人员的“{category_name}”证书（{serial}）有效期至{valid_until}，早于上岗日期{starts_on}。"
        "到上岗那天证书已失效，须先换证。",
        "The worker's “{category_name}” certificate ({serial}) is valid until {valid_until}, before the "
        "start date {starts_on}: it will have lapsed by then. Renew it first."),
    "certificate_review_overdue": (
        "该人员的“{category_name}”证书（{serial}）复审期限为{review_due}，到上岗日期{starts_on}时已过期未复审，"
        "须复审合格后才能上岗。",
        "The worker's “{category_name}” certificate ({serial}) was due for review on {review_due}, before "
        "the start date {starts_on}. It must pass the review before they start."),
    # the national licence (特种作业操作证) as recorded: the national platform is the authority
    "national_licence_suspended": (
        "录入的该人员“{category_name}”全国特种作业操作证（{number}）经国家平台查询，于{checked_on}为暂扣状态，"
        "暂扣期间不能上岗。以国家平台查询结果为准。",
        "The worker's recorded national licence for “{category_name}” ({number}) was found suspended on "
        "{checked_on} per the national platform; while suspended it does not qualify them. The national "
        "platform is authoritative."),
    "national_licence_revoked": (
        "录入的该人员“{category_name}”全国特种作业操作证（{number}）经国家平台查询，于{checked_on}为已吊销（撤销）状态，"
        "不能凭它上岗。以国家平台查询结果为准。",
        "The worker's recorded national licence for “{category_name}” ({number}) was found revoked on "
        "{checked_on} per the national platform; it does not qualify them. The national platform is "
        "authoritative."),
    "national_licence_expired": (
        "录入的该人员“{category_name}”全国特种作业操作证（{number}）经国家平台查询，于{checked_on}为已过期状态，"
        "须换证后才能上岗。以国家平台查询结果为准。",
        "The worker's recorded national licence for “{category_name}” ({number}) was found expired on "
        "{checked_on} per the national platform; it must be renewed before they start. The national "
        "platform is authoritative."),
    "insufficient_induction": (
        "“{employer_name}”的三级安全教育未完成：{detail}本单位培训合格后才能上岗。",
        "The three-level safety induction at “{employer_name}” is incomplete: {detail}They may start "
        "only after completing it there."),
    "open_case": (
        "该人员涉及一起正在办理的案件（案件号 {case_id}），案件办结前不能安排上岗。",
        "The worker is named in an open case ({case_id}); do not put them to work until it is decided."),
    "confirmed_finding": (
        "监管部门已认定该人员存在问题：{kind_name}（{finding_id}），不能安排上岗。",
        "A regulator has confirmed a finding naming this worker: {kind_name} ({finding_id}). Do not put "
        "them to work."),
    # warnings: shown, never a block
    "under_review": (
        "有一条涉及该人员的线索正在核查：{kind_name}（{finding_id}）。尚未认定，不影响本次结论。",
        "A finding naming this worker is under review: {kind_name} ({finding_id}). It is not confirmed "
        "and does not change this answer."),
    "other_induction_not_counted": (
        "“{employer_name}”以外的单位（如劳务派遣单位）组织的 {hours} 小时安全教育不能代替用工单位的三级安全教育，未计入。",
        "{hours} hours of induction given by organisations other than “{employer_name}” (such as the "
        "labour agency) do not replace the host's three-level induction and were not counted."),
    # parts of the induction detail
    "induction_total": ("已完成{completed}小时，至少需要{required}小时（{industry_name}）。",
                        "{completed} of at least {required} hours done ({industry_name}). "),
    "induction_level_missing": ("{levels}培训尚无记录。", "no {levels} level recorded yet. "),
    "induction_repeat": (
        "{because}，须重新接受车间级和班组级教育：{levels}。",
        "{because}, so the workshop and team levels must be repeated: {levels}. "),
    "repeat_role_change": ("岗位有变动", "the role changed"),
    "repeat_return": ("离岗{days}天后返岗", "they return after {days} days away"),
    "repeat_level": ("{level_name}{completed}/{required}小时", "{level_name} {completed}/{required} h"),
    # notices
    "notice_certificate_revoked": (
        "您单位在岗人员{worker_name}（{id_masked}）的“{category_name}”证书（{serial}）已被撤销。"
        "请立即停止其相关作业，并重新做上岗前核查。",
        "The “{category_name}” certificate ({serial}) of {worker_name} ({id_masked}), placed with you, "
        "has been revoked. Stop them doing that work now and run a new pre-start check."),
    "notice_certificate_suspended": (
        "您单位在岗人员{worker_name}（{id_masked}）的“{category_name}”证书（{serial}）已被暂停使用。"
        "暂停期间不能安排其从事相关作业。",
        "The “{category_name}” certificate ({serial}) of {worker_name} ({id_masked}), placed with you, "
        "is suspended. They may not do that work while it is suspended."),
    "notice_certificate_reinstated": (
        "您单位在岗人员{worker_name}（{id_masked}）的“{category_name}”证书（{serial}）已恢复有效。",
        "The “{category_name}” certificate ({serial}) of {worker_name} ({id_masked}), placed with you, "
        "is valid again."),
    "notice_finding_confirmed": (
        "监管部门已认定涉及您单位在岗人员{worker_name}（{id_masked}）的问题：{kind_name}（{finding_id}）。"
        "处理完毕前不能安排其上岗。",
        "A regulator has confirmed a finding naming {worker_name} ({id_masked}), placed with you: "
        "{kind_name} ({finding_id}). Do not put them to work until it is resolved."),
    "notice_finding_dismissed": (
        "您单位于{checked_on}对{worker_name}（{id_masked}）的上岗前核查（{check_id}）因一条问题未通过："
        "{kind_name}（{finding_id}）。该问题现已撤销，请重新核查。",
        "Your pre-start check ({check_id}) of {worker_name} ({id_masked}) on {checked_on} was not cleared "
        "partly because of a finding: {kind_name} ({finding_id}). That finding has been dismissed; check "
        "again."),
    # receipt verification
    "receipt_valid": ("回执签名正确，内容与登记库中的记录一致。",
                      "The receipt's signature checks out and it matches the registry's record."),
    "receipt_bad_signature": ("回执签名核对不上：内容被改动过，或不是本系统签发的。",
                              "The signature does not match: the receipt was altered or was not issued here."),
    "receipt_unknown_key": ("回执的签名密钥不在信任名单中。", "The receipt was signed with a key not on the trust list."),
    "receipt_not_recorded": ("签名正确，但登记库中没有与之一致的核查记录。",
                             "The signature is correct but the registry holds no matching check."),
    "receipt_compromised_key": ("回执的签名密钥已泄露，且登记库中没有泄露前的一致记录。",
                                "The signing key was compromised and the registry holds no matching "
                                "check made before that."),
}

FINDING_KINDS = {
    "training_overlap": ("培训时间重叠", "overlapping training"),
    "trainer_double_booked": ("教师同时段授课", "trainer double-booked"),
    "exam_before_training": ("未完成培训学时即参加考试", "exam before training"),
    "exam_too_fast": ("考试用时过短", "exam finished too fast"),
    "identical_answers": ("答卷雷同", "identical answers"),
    "forged_certificate": ("伪造证书", "forged certificate"),
    "unregistered_certificate": ("未登记证书", "unregistered certificate"),
    "certificate_clone": ("证书被克隆", "cloned certificate"),
    "holder_mismatch": ("人证不符", "holder mismatch"),
    "no_certificate_on_duty": ("无证上岗", "working without a certificate"),
    "unqualified_on_duty": ("不符合岗位要求上岗", "on duty without the role's qualifications"),
}
LEVEL_NAMES = {"company": ("公司级", "company"), "workshop": ("车间级", "workshop"), "team": ("班组级", "team")}


def words(code: str, lang: str = "zh", **params) -> str:
    """The message for `code` in `lang` (Chinese unless "en"), filled with `params`."""
    zh, en = MESSAGES[code]
    return (en if lang == "en" else zh).format(**params)


def kind_name(kind: str, lang: str = "zh") -> str:
    zh, en = FINDING_KINDS.get(kind, (kind, kind))
    return en if lang == "en" else zh


def level_name(level: str, lang: str = "zh") -> str:
    zh, en = LEVEL_NAMES.get(level, (level, level))
    return en if lang == "en" else zh


def hours(value: float) -> str:
    return f"{value:g}"
