"""What the console says: every refusal code it shows, in words a clerk understands.

Chinese first, English via ``?lang=en``. Services refuse with stable codes (``insufficient_hours``,
``id_number_check``, ``locked``); this table turns each into a sentence that says what is wrong
and what to do. It decides nothing and never carries personal data.
"""
from __future__ import annotations

from training.web.i18n import t

WORDS: dict[str, tuple[str, str]] = {
    # signing in
    "bad_credentials": ("用户名或密码不正确。", "The sign-in name or password is wrong."),
    "locked": ("连续登录失败次数过多，账户已暂时锁定。请 {minutes} 分钟后再试，或请本单位管理员解锁。",
               "Too many failed sign-ins: the account is locked for now. Try again in {minutes} minutes, "
               "or ask your administrator to unlock it."),
    "throttled": ("这台电脑登录失败次数过多，请 {minutes} 分钟后再试。",
                  "Too many failed sign-ins from this computer. Try again in {minutes} minutes."),
    "bad_code": ("动态验证码不正确或已用过。请打开验证器应用，输入当前显示的6位数字。",
                 "The code is wrong or was already used. Enter the 6 digits your authenticator app shows now."),
    # passwords
    "wrong_password": ("当前密码不正确。", "The current password is wrong."),
    "password_short": ("新密码至少需要10个字符。", "The new password needs at least 10 characters."),
    "password_long": ("新密码太长（最多200个字符）。", "The new password is too long (200 characters at most)."),
    "password_has_login": ("新密码不能包含用户名。", "The new password must not contain the sign-in name."),
    "password_simple": ("新密码太简单，请混合使用不同的字符。", "The new password is too simple; mix different characters."),
    "password_same": ("新密码不能与当前密码相同。", "The new password must differ from the current one."),
    "password_mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    # accounts
    "taken": ("这个用户名已被使用，请换一个。", "This sign-in name is taken; choose another."),
    "separation_of_duties": ("账户管理和问题线索审核须由不同的人负责，不能给同一个账户。",
                             "Account administration and findings review must go to different people."),
    "regulator_only": ("只有监管部门的账户才设置职责。", "Only a regulator's accounts hold duties."),
    "invalid": ("格式不正确。", "The format is wrong."),
    "length": ("长度不符合要求。", "The length is wrong."),
    "not_allowed": ("所选的值不可用。", "That value is not allowed."),
    "required": ("必填项未填写。", "A required field is empty."),
    # rows of an upload
    "id_number_format": ("身份证号应为18位：17位数字，最后一位为数字或X。",
                         "An identity number has 18 characters: 17 digits, then a digit or X."),
    "id_number_region": ("身份证号前两位不是有效的省份代码。", "The first two digits are not a province code."),
    "id_number_birth_date": ("身份证号第7至14位不是有效的出生日期。", "Characters 7 to 14 are not a real birth date."),
    "id_number_check": ("身份证号最后一位校验码不对，可能有数字输错了。",
                        "The last character does not match: a digit was probably mistyped."),
    "missing_name": ("姓名为空。", "The name is empty."),
    "name_differs": ("姓名与该身份证号已登记的姓名不一致，请核对身份证。",
                     "The name differs from the one registered with this identity number; check the identity card."),
    "already_in_class": ("已在本班名单中。", "Already on this class's roster."),
    "not_in_class": ("此人不在本班名单中，请先加入名单。", "Not on this class's roster; add the person first."),
    "not_registered": ("系统中没有此身份证号的学员，请培训机构先登记。",
                       "No trainee with this identity number; the training body registers trainees first."),
    "not_registered_or_no_name": ("没有与这个身份证号和姓名相符的学员。请填写身份证上的姓名；尚未登记的，请培训机构先登记。",
                                  "No trainee matches this identity number and name. Give the name as on the ID card; "
                                  "the training body registers trainees first."),
    "name_mismatch": ("这个身份证号已登记，但姓名与所填不符。请按身份证填写姓名。",
                      "This identity number is registered under another name. Give the name as on the ID card."),
    "too_many_lookups": ("按身份证号查询的次数过多，请稍后再试。", "Too many lookups by identity number; try again later."),
    "no_session": ("签到时间不在本班任何一次课的时间内。", "The check-in time falls in none of this class's sessions."),
    "bad_time": ("时间格式不对，请写成 2025-03-01 08:30。", "The time is not readable; write it as 2025-03-01 08:30."),
    "outside_session": ("签到或签退时间超出了这次课的时间。", "Check-in or check-out is outside the session's time."),
    "range": ("数值超出允许的范围。", "The value is out of range."),
    "in_future": ("时间晚于现在：尚未发生的考勤或考试不能记录。",
                  "The time is later than now: attendance or exams that have not happened yet are not recorded."),
    "not_enrolled": ("此人未报名参加本次课，请先加入本班名单。",
                     "Not enrolled in this session; add the person to the class's roster first."),
    "not_employed": ("本单位没有此人的在职用工记录，只能为本单位用工人员记录三级教育。",
                     "No open employment of this person with your organisation: induction is recorded only for your own workers."),
    "already_recorded": ("这次课已记录过此人的考勤。", "Attendance for this person in this session is already recorded."),
    "bad_score": ("成绩应为0到100之间的数字。", "Scores are numbers from 0 to 100."),
    "bad_minutes": ("考试用时应为1到600之间的分钟数。", "The exam duration is a number of minutes from 1 to 600."),
    "unknown_category": ("培训类别不认识，请用类别名称或代码。", "Unknown category; use its name or code."),
    "not_accredited": ("本单位在考试当天没有该类别的有效资质。", "Your organisation held no accreditation for this category on that day."),
    "missing_column": ("文件缺少必需的列：{columns}。", "The file lacks required columns: {columns}."),
    "unreadable_file": ("文件读不出来。请上传 CSV（UTF-8 或 GBK）或 Excel（.xlsx）文件。",
                        "The file cannot be read. Upload a CSV (UTF-8 or GBK) or Excel (.xlsx) file."),
    "too_many_rows": ("一个文件最多 {limit} 行，请分开上传。", "At most {limit} rows per file; split it."),
    "too_many_columns": ("一行最多 {limit} 列，请删去多余的列。", "At most {limit} columns per row; remove the extra ones."),
    "file_too_large": ("文件解压后太大（上限 {limit}），请分成几个文件上传。",
                       "The file is too large once unpacked (limit {limit}); split it into several files."),
    # evidence and issuance
    "insufficient_hours": ("培训学时未达到要求。", "The required training hours are not complete."),
    "no_passed_exam": ("没有考试中心记录的合格考试成绩。", "No passed exam recorded by an exam centre."),
    "exam_before_training": ("考试在学时完成之前进行，须学时完成后重新考试。",
                             "The exam was taken before the hours were complete; a new exam is needed."),
    "exam_expired": ("合格成绩已超过12个月，须重新考试。", "The pass is older than 12 months; a new exam is needed."),
    "retake_beyond_limit": ("补考次数超过规定，须重新培训后再考。", "Retakes beyond the limit: retrain before another exam."),
    "insufficient_refresher_hours": ("复审培训学时不足。", "Not enough refresher training hours recorded."),
    "not_found": ("没有找到。", "Not found."),
}


def words_for(code: str | None, **values) -> str | None:
    pair = WORDS.get(code or "")
    if pair is None:
        return None
    return t(*pair).format(**values) if values else t(*pair)


def say(code: str, **values) -> str:
    return words_for(code, **values) or code
