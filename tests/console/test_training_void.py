"""A training body's clerk voids an attendance record from one session's page
(``POST /console/attendance/<id>/void``): a reason is required, the record is marked void (never
deleted) and the trainee's hours are counted again without it, the account's action is audited,
and another training body, a form without its CSRF token and a second void change nothing."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests import factories as f
from tests.console.helpers import Setup, account, token
from training.db import db
from training.db.models import AuditEntry
from training.evidence.hours import evidence_for
from training.evidence.models import Attendance

VOID = re.compile(r'action="/console/attendance/([0-9a-f]{16})/void"')
DONE = "考勤记录已作废；学时将重新计算。"
NEED_REASON = "作废须写明原因。"


def _text(r) -> str:
    return r.get_data(as_text=True)


def _attended_class(s, c):
    """A confined-space class of one trainee with two 8-hour sessions on two days, both ticked
    present on the grid: (class url, worker id, [session ids])."""
    cls = c.post("/console/classes", data={"name": "作废测试班", "category": "confined_space",
                                           "csrf_token": token(c)}).headers["Location"]
    roster = f"姓名,身份证号\n周作废,{f.id_number()}\n".encode()
    c.post(cls + "/roster", data={"file": (io.BytesIO(roster), "r.csv"), "csrf_token": token(c, cls)},
           content_type="multipart/form-data")
    c.post("/console/trainers", data={"name": "孙老师", "id_number": f.id_number(), "csrf_token": token(c)})
    trainer = re.search(r'<option value="([0-9a-f]{16})"', _text(c.get(cls + "/sessions"))).group(1)
    for back in (4, 3):
        r = c.post(cls + "/sessions", data={
            "date": (datetime.now() - timedelta(days=back)).strftime("%Y-%m-%d"), "start": "08:30", "hours": "8",
            "trainer_id": trainer, "location": "一教", "csrf_token": token(c, cls + "/sessions")})
        assert r.status_code == 302
    cells = re.findall(r'name="cell" value="([^"]+)"', _text(c.get(cls + "/attendance")))
    assert len(cells) == 2
    r = c.post(cls + "/attendance", data={"cell": cells, "csrf_token": token(c, cls + "/attendance")},
               follow_redirects=True)
    assert "已记录 2 条考勤" in _text(r)
    worker_id = cells[0].split(":")[1]
    return cls, worker_id, [cell.split(":")[0] for cell in cells]


def _record_on(c, session_id: str) -> str:
    """The id of the one voidable record on a session's page."""
    found = VOID.findall(_text(c.get(f"/console/sessions/{session_id}")))
    assert len(found) == 1
    return found[0]


def _hours(c, cls: str) -> str:
    """The trainee's credited hours as the evidence page shows them ("16 / 24")."""
    return re.search(r'<td class="num nowrap">([^<]+)</td>', _text(c.get(cls + "/evidence"))).group(1).strip()


def _audits(subject: str) -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.event == "console.attendance_voided",
                                                      AuditEntry.subject == subject)).all()


def _void(c, att_id: str, session_id: str, reason: str | None, **kw):
    data = {"csrf_token": token(c, f"/console/sessions/{session_id}")}
    if reason is not None:
        data["reason"] = reason
    return c.post(f"/console/attendance/{att_id}/void", data=data, **kw)


def _voidable(app, client):
    """The clerk's class with its attendance, and one record on the first session to void:
    (setup, the clerk's client, the class, the sessions, the record's id)."""
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls, _, sessions = _attended_class(s, c)
    return s, c, cls, sessions, _record_on(c, sessions[0])


def test_training_void_without_reason_is_refused_in_words(app, client):
    s, c, cls, sessions, att_id = _voidable(app, client)
    for reason in (None, "", "   "):
        r = _void(c, att_id, sessions[0], reason, follow_redirects=True)
        assert r.status_code == 200 and NEED_REASON in _text(r) and DONE not in _text(r)
    db.session.expire_all()
    att = db.session.get(Attendance, att_id)
    assert att.voided_at is None and att.void_reason is None
    assert _record_on(c, sessions[0]) == att_id  # still offered for voiding
    assert _hours(c, cls) == "16 / 24" and _audits(att_id) == []


def test_training_void_with_reason_marks_the_record_and_hours_are_counted_again(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls, worker_id, sessions = _attended_class(s, c)
    att_id, kept_id = _record_on(c, sessions[0]), _record_on(c, sessions[1])
    assert _hours(c, cls) == "16 / 24" and evidence_for(worker_id, "confined_space").credited_hours == 16
    r = _void(c, att_id, sessions[0], "  签到机时间错误，实际缺席  ")
    assert r.status_code == 302 and r.headers["Location"] == f"/console/sessions/{sessions[0]}"
    page = _text(c.get(r.headers["Location"]))
    assert DONE in page and "已作废" in page and "签到机时间错误，实际缺席" in page
    assert VOID.search(page) is None  # nothing left to void on this session

    db.session.expire_all()
    att, kept = db.session.get(Attendance, att_id), db.session.get(Attendance, kept_id)
    assert att.voided_at is not None and att.void_reason == "签到机时间错误，实际缺席"
    assert kept.voided_at is None
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 2  # voided, not deleted
    ev = evidence_for(worker_id, "confined_space")
    assert ev.credited_hours == 8 and att_id not in ev.attendance_ids and kept_id in ev.attendance_ids
    assert _hours(c, cls) == "8 / 24"
    # The grid offers the session again, so the record can be entered anew.
    grid = _text(c.get(cls + "/attendance"))
    assert f'value="{sessions[0]}:{worker_id}"' in grid and f'value="{sessions[1]}:{worker_id}"' not in grid

    (entry,) = _audits(att_id)
    detail = json.loads(entry.detail)
    assert entry.actor_org == s.world.body.id and entry.actor_key == s.body_clerk.id
    assert detail == {"account_id": s.body_clerk.id, "reason": "签到机时间错误，实际缺席"}


def test_training_void_by_another_training_body_is_not_found(app, client):
    s, c, cls, sessions, att_id = _voidable(app, client)
    other = f.org(s.world.reg, "training_body", "另一家培训学校")
    f.accredit(s.world.reg, other, ["confined_space"])
    for role in ("clerk", "administrator"):
        acc, secret = account(other.id, role)
        theirs = s.client_for(acc, secret)
        assert theirs.get(f"/console/sessions/{sessions[0]}").status_code == 404
        r = theirs.post(f"/console/attendance/{att_id}/void", data={"reason": "恶意作废", "csrf_token": token(theirs)})
        assert r.status_code == 404 and "恶意作废" not in _text(r)
    # An officer of the same body reads the session but may not void (the role's, not the body's).
    officer, officer_secret = account(s.world.body.id, "officer")
    viewer = s.client_for(officer, officer_secret)
    assert VOID.search(_text(viewer.get(f"/console/sessions/{sessions[0]}"))) is None
    r = viewer.post(f"/console/attendance/{att_id}/void", data={"reason": "越权作废", "csrf_token": token(viewer)})
    assert r.status_code == 403
    db.session.expire_all()
    att = db.session.get(Attendance, att_id)
    assert att.voided_at is None and att.void_reason is None
    assert _hours(c, cls) == "16 / 24" and _audits(att_id) == []


def test_training_void_needs_the_csrf_token(app, client):
    s, c, cls, sessions, att_id = _voidable(app, client)
    admin = s.client_for(s.body_admin, s.admin_secret)  # same body, another person's session
    for data in ({"reason": "无令牌"}, {"reason": "他人令牌", "csrf_token": token(admin)},
                 {"reason": "假令牌", "csrf_token": "0" * 64}):
        r = c.post(f"/console/attendance/{att_id}/void", data=data)
        assert r.status_code == 400 and "刷新" in _text(r), data
    db.session.expire_all()
    assert db.session.get(Attendance, att_id).voided_at is None
    assert _hours(c, cls) == "16 / 24" and _audits(att_id) == []


def test_training_void_twice_changes_nothing_the_second_time(app, client):
    s, c, cls, sessions, att_id = _voidable(app, client)
    assert _void(c, att_id, sessions[0], "第一次作废").status_code == 302
    c.get(f"/console/sessions/{sessions[0]}")  # reads the first flash
    db.session.expire_all()
    first = db.session.get(Attendance, att_id).voided_at
    # A second void (a stale page, a double click) is no error: the page comes back, saying nothing.
    r = _void(c, att_id, sessions[0], "第二次作废")
    assert r.status_code == 302 and r.headers["Location"] == f"/console/sessions/{sessions[0]}"
    page = _text(c.get(r.headers["Location"]))
    assert DONE not in page and "第二次作废" not in page and "第一次作废" in page
    db.session.expire_all()
    att = db.session.get(Attendance, att_id)
    assert att.voided_at == first and att.void_reason == "第一次作废"
    assert _hours(c, cls) == "8 / 24" and len(_audits(att_id)) == 1
