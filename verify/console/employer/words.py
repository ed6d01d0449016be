"""What the employer pages say: each refusal of the services, and each problem a form or a file
can have, in words a site manager or an agency clerk understands (Chinese first, English with
``?lang=en``). It decides nothing and is never handed a full identity number.
"""
from __future__ import annotations

from marshmallow import ValidationError

from training.accounts.words import words_for
from training.console.pages import category_name
from training.errors import ApiError, flatten
from training.web.i18n import t

WORDS = {
    "who_required": ("请输入身份证号，或用扫码枪扫描证书二维码。", "Enter the identity number, or scan the certificate's QR code."),
    "not_registered": ("本单位的在册人员中没有这个身份证号，也没有与所填姓名相符的登记人员。请填写身份证上的姓名，或先在“用工登记”中登记此人。",
                       "No one you employ has this identity number, and no one registered has it with the name given. "
                       "Give the name as on the ID card, or place them under “Placements” first."),
    "name_mismatch": ("这个身份证号已登记，但姓名与所填不符。请按身份证填写姓名。",
                      "This identity number is registered under another name. Give the name as on the ID card."),
    "too_many_lookups": ("按身份证号查询的次数过多，请稍后再试。", "Too many lookups by identity number; try again later."),
    "confirmed": ("已确认这条用工：本单位现在可以为其登记三级安全教育并做上岗前核查。",
                  "Placement confirmed: you may now record induction for this worker and check them before a shift."),
    "not_registered_name": ("系统中还没有这个身份证号的人员。请同时填写姓名，登记时一并登记此人。",
                            "No one is registered with this identity number yet. Give the name too and they are "
                            "registered with the placement."),
    "worker_not_found": ("没有这个人员编号。", "No worker with this id."),
    "not_ours": ("扫到的不是安证证书的二维码（可能是其他平台的证书），无法据此确定人员。请到其来源核验，或改为输入身份证号。",
                 "The scanned code is not an anzheng certificate (perhaps another platform's): it does not tell who "
                 "the worker is. Check it where it came from, or enter the identity number instead."),
    "forged": ("二维码的签名核对不上：这张证书可能是伪造或被改动过的，不能凭它安排上岗。请改为输入本人身份证号核查。",
               "The code's signature does not check out: the certificate may be forged or altered and does not "
               "qualify anyone. Enter the person's identity number instead."),
    "unregistered": ("二维码签名正确，但登记库中没有这张证书，不能凭它安排上岗。请改为输入本人身份证号核查，并向监管部门报告。",
                     "The code is signed but the registry does not hold this certificate: it does not qualify anyone. "
                     "Enter the person's identity number instead, and tell the regulator."),
    "no_placement": ("本单位没有把该人员派遣（或分包）到这家用工单位。请先在“用工登记”中登记，或选择正确的用工单位。",
                     "You have no placement of this worker with that host. Record the placement first, or choose the "
                     "right host."),
    "ambiguous": ("该人员被派遣到多家用工单位，请选择用工单位。", "The worker is placed with several hosts; choose one."),
    "starts_on_range": ("上岗日期不能早于今天。", "The start date cannot be before today."),
    "role_required": ("请选择岗位。", "Choose a role."),
    "host_required": ("请填写用工单位：选择已合作的单位，或输入它的统一社会信用代码。",
                      "Say who the host is: choose one you work with, or enter its unified social credit code."),
    "org_not_found": ("没有以这个统一社会信用代码登记的单位。请核对代码，或请监管部门先登记该单位。",
                      "No organisation is registered with this credit code. Check it, or ask the regulator to "
                      "register the organisation."),
    "host_wrong_kind": ("这个单位不是用工单位（企业、劳务派遣单位或分包单位）。",
                        "That organisation is not an employing one (enterprise, labour agency or subcontractor)."),
    "via_wrong_kind": ("派遣或分包单位须是登记为劳务派遣单位或分包单位的单位。",
                       "The one in between must be registered as a labour agency or a subcontractor."),
    "credit_code_format": ("统一社会信用代码应为18位数字或大写字母。", "A credit code has 18 digits or capital letters."),
    "credit_code_check": ("统一社会信用代码最后一位校验码不对，可能有字符输错了。",
                          "The credit code's last character does not match: one was probably mistyped."),
    "already_placed": ("该人员已在这家用工单位担任这个岗位且尚未结束用工；要重新登记，请先结束原来的用工。",
                       "The worker already holds this role with this host and it has not ended; end it first to "
                       "record a new one."),
    "ends_before_start": ("结束日期不能早于开始日期。", "The end date cannot be before the start."),
    "already_ended": ("这条用工已经结束，结束日期不能再改。", "This placement has already ended; its end date stays."),
    "same_org": ("用工单位和派遣/分包单位不能是同一家。", "The host and the one in between must differ."),
    "site_not_found": ("作业地点不属于该用工单位。", "That site does not belong to the host."),
    "bad_date": ("日期格式不对，请写成 2025-03-01。", "The date is not readable; write it as 2025-03-01."),
    "not_placed": ("此人不在本单位的在岗人员中。", "This person is not among your placed workers."),
    "forbidden": ("没有权限进行此操作。", "You may not do this."),
    "placed": ("已登记用工。下一步：记录三级安全教育，然后做上岗前核查。",
               "Placement recorded. Next: record the induction, then run the pre-start check."),
    "placed_pending": ("已登记用工，等待用工单位确认；确认后，用工单位即可记录三级安全教育、做上岗前核查。",
                       "Placement recorded; it waits for the host's confirmation, after which the host records "
                       "the induction and runs the pre-start check."),
    "ended": ("已结束用工。", "The placement has ended."),
}
FIELD_WORDS = {("employer_id", "no_placement"): "no_placement", ("employer_id", "ambiguous"): "ambiguous",
               ("employer_id", "not_found"): "host_wrong_kind", ("employer_id", "required"): "host_required",
               ("via_id", "not_found"): "via_wrong_kind", ("via_id", "not_allowed"): "same_org",
               ("site_id", "not_found"): "site_not_found", ("starts_on", "range"): "starts_on_range",
               ("ends_on", "range"): "ends_before_start", ("worker_id", "not_found"): "worker_not_found",
               ("id_number", "not_registered"): "not_registered"}


def words(code: str) -> str:
    pair = WORDS.get(code)
    return t(*pair) if pair else (words_for(code) or code)


def refusal(err, conflict: str = "already_placed") -> str:
    """A service's refusal (ApiError or ValidationError) in a site manager's words."""
    errors = flatten(err.messages) if isinstance(err, ValidationError) else (err.errors or [])
    said = []
    for e in errors:
        field, code = e.get("field", ""), e.get("code", "")
        key = FIELD_WORDS.get((field, code))
        if key is None and field in ("starts_on", "ends_on"):
            key = "bad_date"
        elif key is None and field == "role":
            key = "role_required"
        said.append(words(key) if key else (words_for(code) or e.get("message") or code))
    if not said and isinstance(err, ApiError):
        said = [words(conflict if err.status == 409 else "forbidden" if err.status == 403 else "worker_not_found")]
    return "；".join(dict.fromkeys(said))


SHORT = {"certificate_revoked": ("证书已撤销", "certificate revoked"),
         "certificate_suspended": ("证书已暂停", "certificate suspended"),
         "certificate_expired": ("证书已过期", "certificate expired"),
         "certificate_expires_before_start": ("证书在上岗日前到期", "certificate lapses before the start"),
         "certificate_review_overdue": ("证书逾期未复审", "certificate review overdue"),
         "national_licence_suspended": ("全国特种作业操作证暂扣（录入信息）", "national licence suspended (as recorded)"),
         "national_licence_revoked": ("全国特种作业操作证已吊销（录入信息）", "national licence revoked (as recorded)"),
         "national_licence_expired": ("全国特种作业操作证已过期（录入信息）", "national licence expired (as recorded)"),
         "open_case": ("涉及在办案件", "named in an open case"),
         "confirmed_finding": ("有已认定的问题", "a confirmed finding"),
         "under_review": ("有线索在核查（不影响结论）", "a finding under review (does not change the answer)"),
         "other_induction_not_counted": ("派遣单位等的教育不计入", "induction by others not counted")}


OUTCOMES = {"cleared": (("可以上岗", "Cleared"), "ok"), "not_cleared": (("不能上岗", "Not cleared"), "bad"),
            "refused": (("未核查", "Not checked"), "warn"), "ready": (("待核查", "To check"), "muted")}


def short_reasons(a: dict) -> str:
    """One line of what stands in the way, for a crew's table (the answer page has the full words)."""
    out = []
    for r in a["reasons"] + a["warnings"]:
        if r["code"] == "missing_certificate":
            out.append(t(f"无“{category_name(r.get('category'))}”证书", f"no {category_name(r.get('category'))} certificate"))
        elif r["code"] == "insufficient_induction":
            ind = a["induction"]
            out.append(t("三级安全教育未完成（%g/%g 小时）", "induction incomplete (%g/%g h)")
                       % (ind["completed_hours"], ind["required_hours"]))
        else:
            out.append(t(*SHORT.get(r["code"], (r["code"], r["code"]))))
    return "；".join(out)


CREW_WORDS = {"who_missing": ("这一行没有身份证号（或人员编号）。", "This row has no identity number (or worker id)."),
              "unknown_role": ("岗位不认识，请写岗位名称（如“焊工”）或代码。",
                               "Unknown role; write its name (e.g. “Welder”) or its code."),
              "no_role": ("没有岗位：请在文件中加“岗位”列，或在上传时选择岗位。",
                          "No role: add a “岗位” (role) column, or choose the role when uploading."),
              "bad_date": ("上岗日期格式不对，请写成 2025-03-01。", "The start date is not readable; write it as 2025-03-01.")}


def crew_words(code: str) -> str:
    pair = CREW_WORDS.get(code)
    return t(*pair) if pair else words(code)
