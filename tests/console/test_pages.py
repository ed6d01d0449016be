"""The console's pages doing the work: rosters (CSV, GBK CSV, XLSX) with per-row reports,
sessions and attendance for a whole class, exam results, issuing everyone ready in chunks,
the class's cards as one PDF, revocation, accounts and keys, and the worker's own page."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from tests import factories as f
from tests.console.helpers import Setup, token

CST_FMT = "%Y-%m-%d %H:%M"


def _upload(c, url, name, body: bytes, back: str):
    return c.post(url, data={"file": (io.BytesIO(body), name), "csrf_token": token(c, back)},
                  content_type="multipart/form-data")


def _class(c, category="confined_space"):
    return c.post("/console/classes", data={"name": "测试班", "category": category, "csrf_token": token(c)}).headers["Location"]


def _ready_class(s, c, n=6):
    """A class of n with 24 hours attended and exams posted (the last one failed)."""
    cls = _class(c)
    people = [(f"学员{i}", f.id_number()) for i in range(n)]
    _upload(c, cls + "/roster", "r.csv", ("姓名,身份证号\n" + "\n".join(f"{a},{b}" for a, b in people)).encode(), cls)
    tr = c.post("/console/trainers", data={"name": "孙老师", "id_number": f.id_number(), "csrf_token": token(c)})
    assert tr.status_code == 302
    from training.db import db
    from training.people.models import Trainer
    trainer = db.session.query(Trainer).filter_by(created_by=s.world.body.id).order_by(Trainer.created_at.desc()).first()
    for back in (12, 11, 10):
        day = (datetime.now() - timedelta(days=back)).strftime("%Y-%m-%d")
        r = c.post(cls + "/sessions", data={"date": day, "start": "08:30", "hours": "8", "trainer_id": trainer.id,
                                            "location": "一教", "csrf_token": token(c, cls + "/sessions")})
        assert r.status_code == 302
    grid = c.get(cls + "/attendance").get_data(as_text=True)
    cells = [v for v in __import__("re").findall(r'name="cell" value="([^"]+)"', grid)]
    assert len(cells) == 3 * n
    r = c.post(cls + "/attendance", data={"cell": cells, "csrf_token": token(c, cls + "/attendance")})
    assert r.status_code == 302
    centre = s.client_for(s.centre_clerk, s.centre_secret)
    taken = (datetime.now() - timedelta(days=5)).strftime("%Y-%m-%d 09:00")
    rows = "\n".join(f"{num},{name},confined_space,{taken},70,{60 if i == n - 1 else 90},88,考评员"
                     for i, (name, num) in enumerate(people))
    r = _upload(centre, "/console/exams/upload", "e.csv",
                ("身份证号,姓名,考试类别,考试时间,考试用时,理论成绩,实操成绩,考评员\n" + rows).encode(), "/console/exams")
    assert r.status_code == 200
    return cls, people


def test_pages_roster_upload_reports_each_row(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls = _class(c)
    good = f.id_number()
    csv_body = f"姓名,身份证号\n张三,{good}\n,{f.id_number()}\n李四,123456\n张三,{good}\n".encode()
    text = _upload(c, cls + "/roster", "r.csv", csv_body, cls).get_data(as_text=True)
    assert text.count("已加入") >= 1 and "姓名为空" in text and "18位" in text and "已在本班名单中" in text
    gbk = f"姓名,身份证号\n王五,{f.id_number()}\n".encode("gb18030")
    assert "已加入" in _upload(c, cls + "/roster", "gbk.csv", gbk, cls).get_data(as_text=True)
    from openpyxl import Workbook
    wb, out = Workbook(), io.BytesIO()
    wb.active.append(["姓名", "身份证号"])
    wb.active.append(["赵六", f.id_number()])
    wb.save(out)
    assert "已加入" in _upload(c, cls + "/roster", "r.xlsx", out.getvalue(), cls).get_data(as_text=True)
    r = _upload(c, cls + "/roster", "bad.csv", b"name,phone\nx,y\n", cls)
    assert r.status_code == 302
    assert "身份证号" in c.get(cls).get_data(as_text=True)  # the missing column, in words
    assert c.get(cls).get_data(as_text=True).count("********") == 3


def test_pages_class_to_certificates_and_cards(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls, people = _ready_class(s, c, n=6)
    page = c.get(cls + "/evidence").get_data(as_text=True)
    assert "24 / 24" in page and "为全部 5 名合格学员发证" in page
    issued, offset = [], 0
    while True:
        r = c.post(cls + "/issue", data={"offset": offset, "csrf_token": token(c, cls + "/evidence")},
                   headers={"Accept": "application/json"})
        body = r.get_json()
        issued += [x for x in body["results"] if x["style"] == "ok"]
        offset = body["next_offset"]
        if offset >= body["total"]:
            break
    assert len(issued) == 5 and body["total"] == 6
    again = c.post(cls + "/issue", data={"csrf_token": token(c, cls + "/evidence")}).get_data(as_text=True)
    assert "已持有证书" in again and "未达条件" in again  # the no-script path: one report
    pdf = c.get(cls + "/cards.pdf")
    from pypdf import PdfReader
    assert pdf.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(pdf.data)).pages) == 5
    serial = issued[0]["detail"]
    assert serial in c.get("/console/certificates").get_data(as_text=True)
    r = c.post(f"/console/certificates/{serial}/revoke", data={"reason": "错发", "csrf_token": token(c)})
    assert r.status_code == 403  # a clerk may not revoke
    admin = s.client_for(s.body_admin, s.admin_secret)
    r = admin.post(f"/console/certificates/{serial}/revoke", data={"reason": "培训记录有误", "csrf_token": token(admin)},
                   follow_redirects=True)
    assert "已撤销" in r.get_data(as_text=True)
    r = admin.post(f"/console/certificates/{issued[1]['detail']}/review", data={"csrf_token": token(admin)},
                   follow_redirects=True)
    assert "复审培训学时不足" in r.get_data(as_text=True)
    from training.db import db
    from training.db.audit import AuditEntry
    revoked = db.session.query(AuditEntry).filter(AuditEntry.event == "certificate.revoked").one()
    assert revoked.actor_key == s.body_admin.id


def test_pages_exam_upload_is_safe_to_repeat_and_checks_rows(app, client):
    s = Setup(app, client)
    centre = s.client_for(s.centre_clerk, s.centre_secret)
    number = f.id_number()
    taken = (datetime.now() - timedelta(days=2)).strftime(CST_FMT)
    sheet = (f"身份证号,姓名,考试类别,考试时间,考试用时,理论成绩,实操成绩\n{number},钱七,有限空间作业安全培训,{taken},60,85,90\n"
             f"{f.id_number()},,welding,{taken},60,85,90\n{number},钱七,welding,昨天,60,85,90\n"
             f"{number},钱七,welding,{taken},60,185,90\n{number},钱七,爆破,{taken},60,85,90\n").encode()
    text = _upload(centre, "/console/exams/upload", "e.csv", sheet, "/console/exams").get_data(as_text=True)
    for words in ("合格", "请培训机构先登记", "时间格式不对", "成绩应为0到100", "培训类别不认识"):
        assert words in text, words
    text = _upload(centre, "/console/exams/upload", "e.csv", sheet, "/console/exams").get_data(as_text=True)
    assert "已记录过" in text
    listing = centre.get("/console/exams").get_data(as_text=True)
    assert "有限空间作业安全培训" in listing and "100%" in listing


def test_pages_attendance_upload_matches_sessions_by_time(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls = _class(c)
    a, b = f.id_number(), f.id_number()
    _upload(c, cls + "/roster", "r.csv", f"姓名,身份证号\n甲,{a}\n".encode(), cls)
    c.post("/console/trainers", data={"name": "孙老师", "id_number": f.id_number(), "csrf_token": token(c)})
    from training.db import db
    from training.people.models import Trainer
    trainer = db.session.query(Trainer).filter_by(created_by=s.world.body.id).first()
    day = (datetime.now() - timedelta(days=3)).strftime("%Y-%m-%d")
    c.post(cls + "/sessions", data={"date": day, "start": "08:30", "hours": "8", "trainer_id": trainer.id,
                                    "csrf_token": token(c, cls + "/sessions")})
    sheet = (f"身份证号,签到时间,签退时间\n{a},{day} 09:10,{day} 16:30\n{b},{day} 09:00,{day} 16:30\n"
             f"{a},{day} 20:00,{day} 21:00\n").encode()
    text = _upload(c, cls + "/attendance/upload", "a.csv", sheet, cls + "/attendance").get_data(as_text=True)
    assert "已记录" in text and "不在本班名单" in text and "不在本班任何一次课" in text
    assert "7.33" in c.get(cls + "/attendance").get_data(as_text=True)


def test_pages_accounts_and_keys(app, client):
    s = Setup(app, client)
    admin = s.client_for(s.body_admin, s.admin_secret)
    r = admin.post("/console/accounts", data={"name": "新同事", "login": "new.colleague", "role": "clerk",
                                             "csrf_token": token(admin, "/console/accounts")})
    assert r.status_code == 201 and "一次性密码" in r.get_data(as_text=True)
    r = admin.post("/console/accounts", data={"name": "重名", "login": "new.colleague", "role": "clerk",
                                             "csrf_token": token(admin, "/console/accounts")})
    assert r.status_code == 422 and "已被使用" in r.get_data(as_text=True)
    from training.accounts.models import Account
    from training.db import db
    new = db.session.query(Account).filter_by(login="new.colleague").one()
    r = admin.post(f"/console/accounts/{new.id}/keys", data={"label": "考勤机", "days": "30",
                                                            "csrf_token": token(admin, f"/console/accounts/{new.id}")})
    key = __import__("re").search(r'id="api-key">([^<]+)<', r.get_data(as_text=True)).group(1)
    listed = client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert any(k["holder"]["name"] == "新同事" for k in listed["items"])
    key_id = key.split("_")[1]
    admin.post(f"/console/keys/{key_id}/revoke", data={"csrf_token": token(admin)})
    assert client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    clerk = s.client_for(s.body_clerk, s.body_secret)
    assert clerk.get("/console/accounts").status_code == 403


def test_pages_worker_lookup_findings_and_appeal(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls, people = _ready_class(s, c, n=2)
    body = c.post(cls + "/issue", data={"offset": 0, "csrf_token": token(c, cls + "/evidence")},
                  headers={"Accept": "application/json"}).get_json()
    serial = body["results"][0]["detail"]
    name, number = people[0]
    w = app.test_client()
    r = w.post("/worker", data={"serial": serial.lower(), "id_number": number, "csrf_token": token(w, "/worker")})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and serial in text and number not in text and number[-4:] in text
    assert "没有涉及您的经核实的问题线索" in text
    r = w.post("/worker", data={"serial": serial, "id_number": people[1][1], "csrf_token": token(w, "/worker")})
    assert r.status_code == 404 and people[1][1] not in r.get_data(as_text=True)
    from certificates.models import Certificate
    from training.db import db
    from verify.findings.service import raise_finding, set_status
    cert = db.session.get(Certificate, serial)
    finding = raise_finding("exam_too_fast", "medium", f"t:{serial}", {}, "考试用时过短", [("worker", cert.worker_id, name)],
                            worker_id=cert.worker_id, certificate_serial=serial)
    db.session.commit()
    text = w.post("/worker", data={"serial": serial, "id_number": number, "csrf_token": token(w, "/worker")}).get_data(as_text=True)
    assert finding.id not in text  # open findings are not the public's
    set_status(finding, "confirmed", "复核属实", None)
    db.session.commit()
    text = w.post("/worker", data={"serial": serial, "id_number": number, "csrf_token": token(w, "/worker")}).get_data(as_text=True)
    assert finding.id in text and "已核实" in text
    r = w.post("/worker/appeal", data={"serial": serial, "id_number": number, "finding_id": finding.id,
                                       "explanation": "我当天确实参加了考试，用时是系统记错了。", "csrf_token": token(w, "/worker")})
    assert r.status_code == 201 and "申诉已提交" in r.get_data(as_text=True)
    from verify.cases.models import Appeal
    assert db.session.query(Appeal).filter_by(finding_id=finding.id, by_role="worker").count() == 1


def test_pages_worker_lookup_is_rate_limited(app, client):
    app.config["RATE_LIMIT_WORKER"] = "3/minute"
    try:
        w = app.test_client()
        t = token(w, "/worker")
        codes = [w.post("/worker", data={"serial": "AAAA-BBBB-CCCC-DDDD", "id_number": "1", "csrf_token": t}).status_code
                 for _ in range(4)]
        assert codes == [404, 404, 404, 429]
    finally:
        app.config.pop("RATE_LIMIT_WORKER")


def test_pages_speak_english_on_request(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    from flask import g
    g.pop("lang", None)  # the test's app context outlives requests; i18n keeps the language on g
    text = c.get("/console/classes?lang=en").get_data(as_text=True)
    assert "Open a class" in text and "Sign out" in text
    g.pop("lang", None)
