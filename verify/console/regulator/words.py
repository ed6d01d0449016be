"""What the regulator's console says: finding kinds, statuses, party roles, organisation kinds,
the labels of a finding's figures, and every refusal of these pages in words an analyst reads at a
glance. Chinese first, English with ``?lang=en``.

Decides nothing and never carries personal data: it only turns stable codes into sentences.
"""
from __future__ import annotations

from training.web.i18n import t

KINDS = {
    "training_overlap": ("同一学员同时上两堂课", "One trainee in two classes at once"),
    "trainer_double_booked": ("教师同一时间在两处授课", "Trainer teaching two classes at once"),
    "session_over_capacity": ("课堂登记人数超过容量", "Class over capacity"),
    "too_many_hours_in_a_day": ("单日学时超过上限", "Too many hours in a day"),
    "late_record": ("记录事后补录", "Record entered late"),
    "training_while_on_site": ("上课时间却在作业现场", "At a work site while in class"),
    "issuance_spike": ("发证量突然猛增", "Sudden jump in issuance"),
    "home_region_far": ("大批远道学员", "Trainees from far away, en masse"),
    "exam_before_training": ("学时未完成即考试", "Exam before the training was complete"),
    "exam_too_fast": ("考试用时过短", "Exam finished too fast"),
    "identical_answers": ("答卷雷同", "Identical wrong answers"),
    "retake_beyond_limit": ("超次补考", "Retakes beyond the limit"),
    "score_anomaly": ("成绩分布异常", "Score anomaly"),
    "forged_certificate": ("伪造证书", "Forged certificate"),
    "unregistered_certificate": ("未登记证书（密钥被盗用）", "Unregistered certificate (misused key)"),
    "certificate_clone": ("克隆证书（两地同时出现）", "Cloned certificate (two places at once)"),
    "holder_mismatch": ("人证不符", "Holder mismatch"),
    "no_certificate_on_duty": ("无证上岗", "On duty without a certificate"),
    "unqualified_on_duty": ("不符合岗位要求上岗", "On duty without the role's qualifications"),
    "certificate_without_evidence": ("证书无培训考试依据", "Certificate without evidence"),
}
GROUPS = {  # the four kinds of fraud the orders name
    "training": ("虚假培训", "Fake training"), "exams": ("虚假考试", "Fake exams"),
    "certificates": ("虚假证书", "Fake certificates"), "employment": ("违法用工", "Illegal employment"),
}
FINDING_STATUS = {"open": ("待核查", "Open"), "confirmed": ("已认定", "Confirmed"), "dismissed": ("已排除", "Dismissed")}
APPEAL_STATUS = {"pending": ("待答复", "Pending"), "upheld": ("申诉成立", "Upheld"), "rejected": ("申诉不成立", "Rejected")}
CASE_STATUS = {"open": ("办理中", "Open"), "confirmed": ("已认定", "Confirmed"), "dismissed": ("已撤销", "Dismissed")}
SEVERITY = {"critical": ("严重", "Critical"), "high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}
SEVERITY_STYLE = {"critical": "bad", "high": "bad", "medium": "warn", "low": "muted"}
ROLES = {
    "worker": ("从业人员", "Worker"), "employer": ("用人单位", "Employer"), "labour_agency": ("劳务派遣单位", "Labour agency"),
    "subcontractor": ("分包单位", "Subcontractor"), "training_body": ("培训机构", "Training body"),
    "exam_centre": ("考试点", "Exam centre"), "trainer": ("教师", "Trainer"), "inspectorate": ("执法机构", "Inspectorate"),
}
ORG_KINDS = {
    "regulator": ("监管部门", "Regulator"), "training_body": ("培训机构", "Training body"),
    "exam_centre": ("考试点", "Exam centre"), "enterprise": ("用人单位（企业）", "Enterprise"),
    "labour_agency": ("劳务派遣单位", "Labour agency"), "subcontractor": ("分包单位", "Subcontractor"),
    "inspectorate": ("执法机构", "Inspectorate"),
}
INDUSTRIES = {
    "coal_mine": ("煤矿", "Coal mining"), "metal_mine": ("金属非金属矿山", "Metal and non-metal mining"),
    "hazardous_chemicals": ("危险化学品", "Hazardous chemicals"), "fireworks": ("烟花爆竹", "Fireworks"),
    "metal_smelting": ("金属冶炼", "Metal smelting"), "construction": ("建筑施工", "Construction"),
    "manufacturing": ("制造业", "Manufacturing"), "other": ("其他", "Other"),
}
ACCREDITATION_STATUS = {"active": ("有效", "Active"), "suspended": ("暂停", "Suspended"),
                        "withdrawn": ("已撤销", "Withdrawn"), "expired": ("已过期", "Expired"),
                        "pending": ("未生效", "Not yet valid")}
STATEMENT_KINDS = {"statement": ("陈述申辩", "Statement"), "declined": ("放弃陈述", "Declined to state"),
                   "no_response": ("逾期未答复", "No response by the deadline")}
FIGURES = {  # a finding's figures, by their key in the evidence
    "overlap_minutes": ("重叠时长（分钟）", "Overlap (minutes)"), "required_hours": ("要求学时", "Hours required"),
    "hours_before_exam": ("考试前已完成学时", "Hours done before the exam"), "credited_hours": ("已计学时", "Hours credited"),
    "duration_minutes": ("考试用时（分钟）", "Exam time (minutes)"), "wrong_count": ("错题数", "Wrong answers"),
    "candidates": ("涉及考生", "Candidates"), "answers_digest": ("错题摘要", "Wrong-answer digest"),
    "distance_km": ("两地距离（公里）", "Distance (km)"), "hours": ("小时数", "Hours"),
    "speed_kmh": ("所需速度（公里/小时）", "Speed needed (km/h)"), "delay_hours": ("录入延迟（小时）", "Entered late by (hours)"),
    "entered_at": ("录入时间", "Entered at"), "described_until": ("所记时间截至", "Describes up to"),
    "seen_at": ("现场核验时间", "Seen on site at"), "day": ("日期", "Day"), "month": ("月份", "Month"),
    "capacity": ("申报容量", "Declared capacity"), "attendees": ("登记人数", "Recorded attendees"),
    "attempts": ("考试次数", "Attempts"), "allowed": ("允许次数", "Allowed"), "bodies": ("涉及机构数", "Bodies"),
    "current": ("近7天发证", "Issued in 7 days"), "busiest": ("此前最多一周", "Busiest earlier week"),
    "trainees": ("学员人数", "Trainees"), "far": ("远道学员", "From far away"), "share_pct": ("占比（%）", "Share (%)"),
    "baseline_pct": ("正常水平（%）", "Usual level (%)"), "p_value": ("显著性 p 值", "p-value"),
    "missing_categories": ("缺少的证书", "Certificates missing"), "task_role": ("所做作业", "Task seen"),
    "id_number_masked": ("身份证号（脱敏）", "Identity number (masked)"), "problems": ("问题", "Problems"),
    "reason_codes": ("核验原因", "Verification reasons"), "serial": ("证书编号", "Serial"),
    "last_training_end": ("最近一次培训结束", "Last training ended"),
}
RECORDS = {  # record kinds named in the evidence, and what to call them
    "attendance": ("考勤记录", "Attendance"), "session": ("培训课程", "Training session"), "exam": ("考试记录", "Exam"),
    "scan": ("现场扫码", "Scan"), "inspection_check": ("现场检查", "Inspection check"),
    "certificate": ("证书", "Certificate"), "site": ("作业地点", "Site"), "organization": ("机构", "Organisation"),
    "trainer": ("教师", "Trainer"), "signer": ("签发密钥所属机构", "Signing key's owner"),
}
REFUSALS = {
    "reason_required": ("请写明理由：审核意见会留档，并告知相关各方。", "Give a reason: it is kept on file and shown to the parties."),
    "reason_long": ("理由太长（最多1000字）。", "The reason is too long (1000 characters at most)."),
    "already": ("这条记录已经是这个状态了，无需重复操作。", "It is already in that state; nothing to do."),
    "decided": ("这份申诉已经答复过，答复不能更改。", "This appeal was already answered; an answer is not changed."),
    "case_decided": ("案件已作出决定，不能再更改或补充陈述。", "The case is decided; it cannot be changed or heard further."),
    "choose_findings": ("请至少勾选一条已认定的问题线索。", "Tick at least one confirmed finding."),
    "not_confirmed": ("只有已认定的问题线索才能立案；请先完成审核。", "Only confirmed findings open a case; review them first."),
    "already_in_case": ("所选线索已在一个办理中的案件里。", "A chosen finding is already in an open case."),
    "not_heard": ("还有当事方没有陈述（或记录放弃、逾期未答复），不能认定案件。",
                  "Some parties have not been heard (nor declined, nor let the deadline pass): the case cannot be confirmed."),
    "hearing_open": ("立案满 {days} 天后才能记录“逾期未答复”。", "“No response” can be recorded only {days} days after the case opened."),
    "not_a_party": ("所选单位或个人不是本案当事方。", "That is not a party to this case."),
    "statement_required": ("请填写陈述内容（放弃或逾期未答复也请简要记录经过）。",
                           "Write the statement (for a refusal or no answer, note briefly what happened)."),
    "choose_status": ("请选择审核结论。", "Choose a decision."),
    "choose_body": ("请选择培训机构。", "Choose a training body."),
    "regulator_keys": ("监管部门自己的密钥在“账户与密钥”中按人发放，不在这里发放。",
                       "The regulator's own keys are issued to persons under “Accounts & keys”, not here."),
    "not_accreditable": ("只有培训机构和考试点需要资质。", "Only training bodies and exam centres are accredited."),
    "choose_categories": ("请至少选择一个类别。", "Choose at least one category."),
    "bad_dates": ("请填写有效期：开始和结束日期，结束不早于开始。", "Give the period: a start and an end date, the end not before the start."),
    "withdrawn_final": ("已撤销的资质不能恢复；如需重新认可，请新增资质。",
                        "A withdrawn accreditation stays withdrawn; grant a new one instead."),
    "holder_required": ("请填写持有人姓名。", "Give the holder's name."),
    "expiry_past": ("到期日须晚于今天。", "The expiry must be after today."),
    "credit_code_format": ("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V），请核对。",
                           "A unified social credit code has 18 digits or capital letters (no I, O, Z, S or V); check it."),
    "credit_code_check": ("统一社会信用代码最后一位校验码不对，可能有字符输错了。",
                          "The last character of the credit code does not match: a character was probably mistyped."),
    "credit_code_taken": ("已有单位以这个统一社会信用代码登记。", "An organisation with this credit code is already registered."),
    "name_required": ("请填写单位名称（最多200字）。", "Give the organisation's name (200 characters at most)."),
    "region_invalid": ("行政区划代码应为6位数字，如 410100。", "The region code has six digits, e.g. 410100."),
    "kind_invalid": ("请选择单位类型。", "Choose the kind of organisation."),
    "industry_employers": ("只有用人单位、劳务派遣单位和分包单位填写行业。",
                           "Only enterprises, labour agencies and subcontractors carry an industry."),
}


def say(table: dict, code: str | None, **values) -> str:
    pair = table.get(code or "")
    if pair is None:
        return code or ""
    text = t(*pair)
    return text.format(**values) if values else text


def refusal(code: str, **values) -> str:
    return say(REFUSALS, code, **values)


def kind_group(kind: str) -> str:
    from verify.rules.common import FAKE_CERTIFICATES, FAKE_EXAMS, FAKE_TRAINING
    if kind in FAKE_TRAINING:
        return "training"
    if kind in FAKE_EXAMS:
        return "exams"
    return "certificates" if kind in FAKE_CERTIFICATES else "employment"


def template_globals() -> dict:
    """What the templates call: ``words('kind', f.kind)`` and friends."""
    tables = {"kind": KINDS, "group": GROUPS, "finding": FINDING_STATUS, "appeal": APPEAL_STATUS, "case": CASE_STATUS,
              "severity": SEVERITY, "role": ROLES, "org_kind": ORG_KINDS, "industry": INDUSTRIES,
              "accreditation": ACCREDITATION_STATUS, "statement": STATEMENT_KINDS, "record": RECORDS}
    return {"words": lambda table, code: say(tables[table], code), "severity_style": SEVERITY_STYLE,
            "kind_group": kind_group}
