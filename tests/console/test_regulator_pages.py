"""The regulator's console pages, through the test client on SQLite and PostgreSQL: the dashboard,
the review queue (filters, paging, evidence and parties in plain words, confirm and dismiss with a
reason), appeals (a worker's, upheld, restoring the verdict), cases (opened from confirmed findings,
statements, the decision and its revocations), organisations (credit codes checked), accreditation
(grant, suspend, reinstate, withdraw, history) and other organisations' keys (shown once, revoked)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.certificates.test_issuance import issue
from tests.console.helpers import account, sign_in, token
from tests.verify.test_online import verify
from training.db import db
from training.db.models import AuditEntry
from training.parties.models import Accreditation, ApiKey, Organization
from training.people.identity import generate_credit_code
from verify.cases.models import Appeal, Case
from verify.findings.models import Finding
from verify.findings.service import raise_finding


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


class Desk:
    """A regulator whose people hold one duty each, signed in on their own clients, beside an
    accredited training body and exam centre."""

    def __init__(self, app, client, categories=("welding", "confined_space")):
        self.app, self.world = app, f.World(client, categories)
        reg = self.world.reg.id
        self.people = {duty: account(reg, role, duties=(duty,))
                       for duty, role in (("findings", "analyst"), ("organisations", "analyst"), ("accounts", "administrator"))}

    def client(self, duty: str):
        acc, secret = self.people[duty]
        c = self.app.test_client()
        r = sign_in(c, acc.login, secret=secret)
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        return c


def certified(w: f.World, minutes: int = 9):
    """A worker with a known identity number, trained, examined (too fast) and certified:
    (worker, identity number, certificate)."""
    number = f.id_number()
    wk = f.worker(w.body, number=number)
    f.train(w.body, w.trainer["id"], [wk["id"]], "confined_space", hours=24, start_days_ago=30)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="confined_space", duration=minutes)
    r = issue(w, wk, "confined_space")
    assert r.status_code == 201, r.get_json()
    return wk, number, r.get_json()


def finding(kind="exam_too_fast", status=None) -> Finding:
    db.session.expire_all()
    stmt = select(Finding).where(Finding.kind == kind)
    if status:
        stmt = stmt.where(Finding.status == status)
    return db.session.scalars(stmt.order_by(Finding.created_at)).first()


def text(r) -> str:
    return r.get_data(as_text=True)


def test_regulator_pages_dashboard_charts_ranking_and_english(app, client):
    desk = Desk(app, client)
    certified(desk.world)
    c = desk.client("findings")
    html = text(c.get("/console/dashboard"))
    assert html.count("<svg") == 3 and "考试用时过短" in html and desk.world.centre.org["name"] in html
    assert "每百张" in html and "最需要先核查的线索" in html and "style=" not in html.split("<main")[1]
    assert 'href="/console/dashboard" aria-current="page"' in html
    en = text(c.get("/console/dashboard?lang=en"))
    assert "Exam finished too fast" in en and "confirmed findings per hundred certificates" in en
    css = c.get("/console/assets/regulator/console_regulator.css")
    assert css.status_code == 200 and b"svg.chart" in css.data and "console_regulator.css" in html
    home = text(c.get("/console/?lang=zh"))
    assert "待核查的问题线索" in home and "/console/findings" in home


def test_regulator_pages_queue_filters_and_pages(app, client):
    desk = Desk(app, client)
    w = desk.world
    wk = f.worker(w.body)
    for i in range(30):
        raise_finding("session_over_capacity" if i % 3 else "trainer_double_booked", "medium" if i % 2 else "high",
                      f"page-test:{i}", {"capacity": 30, "attendees": 31 + i}, "超员\n\nOver capacity",
                      [("training_body", w.body.id, w.body.org["name"])] + ([("worker", wk["id"], wk["name"])] if i < 5 else []))
    raise_finding("exam_too_fast", "medium", "page-test:centre", {"duration_minutes": 9}, "快\n\nFast",
                  [("exam_centre", w.centre.id, w.centre.org["name"])])
    db.session.commit()
    c = desk.client("findings")
    first = text(c.get("/console/findings"))
    assert first.count('href="/console/findings/') == 2 * 25 and "共 31 条" in first and "1 / 2" in first
    assert first.index("badge bad") < first.index("badge warn")  # the most severe first
    second = text(c.get("/console/findings?page=2"))
    assert second.count('href="/console/findings/') == 2 * 6
    only = text(c.get(f"/console/findings?organization={w.centre.id}"))
    assert "共 1 条" in only and "考试用时过短" in only
    kinds = text(c.get("/console/findings?kind=trainer_double_booked"))
    assert "共 10 条" in kinds and ">课堂登记人数超过容量</a>" not in kinds and ">教师同一时间在两处授课</a>" in kinds
    assert "没有符合条件的问题线索" in text(c.get("/console/findings?status=confirmed"))
    assert wk["id_number_masked"] in first


def test_regulator_pages_finding_confirmed_with_a_reason_then_appeal_upheld(app, client):
    desk = Desk(app, client)
    w = desk.world
    wk, number, cert = certified(w)
    hit = finding("exam_too_fast")
    c = desk.client("findings")
    page = text(c.get(f"/console/findings/{hit.id}"))
    assert "考试用时过短" in page and "用时 9 分钟" in page and w.centre.org["name"] in page
    assert wk["id_number_masked"] in page and number not in page
    assert "这场考试只用了 9 分钟" in page and cert["serial"] in page
    t = token(c, f"/console/findings/{hit.id}")
    r = c.post(f"/console/findings/{hit.id}/review", data={"status": "confirmed", "reason": " ", "csrf_token": t})
    assert r.status_code == 302 and finding("exam_too_fast").status == "open"
    assert "请写明理由" in text(c.get(f"/console/findings/{hit.id}"))
    r = c.post(f"/console/findings/{hit.id}/review", data={"status": "confirmed", "csrf_token": t,
                                                          "reason": "调取考场监控，9分钟交卷属实"})
    assert r.status_code == 302
    done = finding("exam_too_fast")
    assert done.status == "confirmed" and done.reviewed_by == desk.people["findings"][0].id
    assert db.session.scalar(select(AuditEntry.actor_key).where(AuditEntry.event == "finding.confirmed")) == done.reviewed_by
    assert verify(client, cert["qr_text"])["result"] == "suspect"  # the public sees it now
    assert "已认定" in text(c.get(f"/console/findings/{hit.id}")) and "9分钟交卷属实" in text(c.get(f"/console/findings/{hit.id}"))

    # The worker appeals without a key, proving who they are; the analyst upholds it.
    r = client.post("/api/v1/appeals", json={"serial": cert["serial"], "id_number": number, "finding_id": hit.id,
                                             "explanation": "考试系统计时有误，我实际用时九十分钟，请调取日志。"})
    assert r.status_code == 201, r.get_json()
    appeal_id = r.get_json()["id"]
    listing = text(c.get("/console/appeals"))
    assert f"/console/appeals/{appeal_id}" in listing and "从业人员" in listing and "待答复" in listing
    page = text(c.get(f"/console/appeals/{appeal_id}"))
    assert "考试系统计时有误" in page and number not in page and wk["name"] in page
    t = token(c, f"/console/appeals/{appeal_id}")
    c.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "upheld", "reason": "", "csrf_token": t})
    assert db.session.get(Appeal, appeal_id).status == "pending"
    r = c.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "upheld", "csrf_token": t,
                                                            "reason": "考试系统日志证实计时故障，申诉属实。"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appeal, appeal_id).status == "upheld" and finding("exam_too_fast").status == "dismissed"
    assert verify(client, cert["qr_text"])["result"] == "valid"  # the verdict is restored
    page = text(c.get(f"/console/appeals/{appeal_id}"))
    assert "申诉成立" in page and "计时故障" in page and 'name="decision"' not in page
    again = c.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "rejected", "reason": "x", "csrf_token": t})
    assert again.status_code == 302 and db.session.get(Appeal, appeal_id).status == "upheld"


def test_regulator_pages_case_opened_heard_confirmed_and_revocations_shown(app, client):
    desk = Desk(app, client)
    w = desk.world
    wk, _, cert = certified(w)
    hit = finding("exam_too_fast")
    c = desk.client("findings")
    t = token(c, "/console/cases")
    assert "没有可以立案的线索" in text(c.get("/console/cases"))
    r = c.post("/console/cases", data={"finding_ids": hit.id, "csrf_token": t})
    assert r.status_code == 302 and db.session.scalar(select(Case.id)) is None  # an open finding opens no case
    c.post(f"/console/findings/{hit.id}/review", data={"status": "confirmed", "reason": "属实", "csrf_token": t})
    assert hit.id in text(c.get("/console/cases"))
    r = c.post("/console/cases", data={"finding_ids": hit.id, "csrf_token": t})
    case_url = r.headers["Location"]
    assert re.fullmatch(r"/console/cases/[0-9a-f]{16}", case_url)
    page = text(c.get(case_url))
    for name in (w.body.org["name"], w.centre.org["name"], wk["name"]):
        assert name in page
    assert "尚未陈述" in page and cert["serial"] in page and "认定后将撤销的证书" in page
    r = c.post(f"{case_url}/decide", data={"status": "confirmed", "reason": "属实", "csrf_token": t})
    assert r.status_code == 302 and db.session.scalar(select(Case.status)) == "open"
    assert "还有当事方没有陈述" in text(c.get(case_url))
    case_id = case_url.rsplit("/", 1)[1]
    from verify.cases.models import CaseParty
    parties = db.session.scalars(select(CaseParty.party_id).where(CaseParty.case_id == case_id)).all()
    assert set(parties) >= {w.body.id, w.centre.id, wk["id"]}
    for party in parties:
        r = c.post(f"{case_url}/statements", data={"party_id": party, "kind": "statement", "csrf_token": t,
                                                   "text": "到场陈述，承认交卷过快。"})
        assert r.status_code == 302
    bad = c.post(f"{case_url}/statements", data={"party_id": w.body.id, "kind": "no_response", "text": "逾期",
                                                 "csrf_token": t})
    assert bad.status_code == 302 and "天后才能记录" in text(c.get(case_url))
    r = c.post(f"{case_url}/decide", data={"status": "confirmed", "reason": "考试作弊属实，撤销证书。", "csrf_token": t})
    assert r.status_code == 302
    page = text(c.get(case_url))
    assert "因本案撤销的证书" in page and cert["serial"] in page and "考试作弊属实" in page
    assert verify(client, cert["qr_text"])["result"] == "revoked"
    assert 'action="' + case_url + '/decide"' not in page and "已认定" in text(c.get("/console/cases?status=confirmed"))


def test_regulator_pages_organisations_registered_with_credit_codes_checked(app, client):
    desk = Desk(app, client)
    c = desk.client("organisations")
    t = token(c, "/console/organisations")
    good = generate_credit_code(f.RNG)
    wrong = good[:-1] + ("1" if good[-1] != "1" else "2")
    r = c.post("/console/organisations", data={"name": "郑州某某培训学校", "kind": "training_body", "credit_code": wrong,
                                                "csrf_token": t})
    assert r.status_code == 422 and "校验码不对" in text(r) and 'value="郑州某某培训学校"' in text(r)
    r = c.post("/console/organisations", data={"name": "", "kind": "training_body", "credit_code": "12", "csrf_token": t})
    assert r.status_code == 422 and "请填写单位名称" in text(r) and "18位" in text(r)
    r = c.post("/console/organisations", data={"name": "郑州某某培训学校", "kind": "training_body",
                                                "credit_code": good.lower(), "region": "410100", "industry": "coal_mine",
                                                "csrf_token": t})
    assert r.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.credit_code == good))
    assert org.kind == "training_body" and org.industry is None and r.headers["Location"].endswith(org.id)
    r = c.post("/console/organisations", data={"name": "另一个监管部门", "kind": "regulator",
                                                "credit_code": generate_credit_code(f.RNG), "csrf_token": t})
    assert r.status_code == 422 and "请选择单位类型" in text(r)
    again = c.post("/console/organisations", data={"name": "重复", "kind": "enterprise", "credit_code": good, "csrf_token": t})
    assert again.status_code == 409 and "已有单位" in text(again)
    listing = text(c.get("/console/organisations?kind=training_body"))
    assert "郑州某某培训学校" in listing and desk.world.centre.org["name"] not in listing
    assert "郑州某某培训学校" in text(c.get(f"/console/organisations?q={good}"))


def test_regulator_pages_accreditation_granted_suspended_reinstated_withdrawn(app, client):
    desk = Desk(app, client)
    c = desk.client("organisations")
    body = desk.world.body
    url = f"/console/organisations/{body.id}"
    t = token(c, url)
    r = c.post(f"{url}/accreditations", data={"valid_from": "2025-01-01", "valid_until": "2027-01-01", "csrf_token": t})
    assert r.status_code == 302 and "请至少选择一个类别" in text(c.get(url))
    r = c.post(f"{url}/accreditations", data={"categories": ["work_at_height", "welding"], "valid_from": "2025-01-01",
                                              "valid_until": "2024-01-01", "csrf_token": t})
    assert "请填写有效期" in text(c.get(url))
    r = c.post(f"{url}/accreditations", data={"categories": ["work_at_height"], "valid_from": "2025-01-01",
                                              "valid_until": "2030-01-01", "csrf_token": t})
    acc = db.session.scalar(select(Accreditation).join(Accreditation.categories).where(
        Accreditation.organization_id == body.id).order_by(Accreditation.created_at.desc()))
    assert [x.category for x in acc.categories] == ["work_at_height"]
    change = f"/console/accreditations/{acc.id}"
    c.post(change, data={"status": "suspended", "reason": "", "csrf_token": t})
    db.session.expire_all()
    assert db.session.get(Accreditation, acc.id).status == "active"
    c.post(change, data={"status": "suspended", "reason": "专项检查发现学时造假", "csrf_token": t})
    c.post(change, data={"status": "active", "reason": "整改验收合格", "csrf_token": t})
    c.post(change, data={"status": "withdrawn", "reason": "再次造假", "csrf_token": t})
    db.session.expire_all()
    assert [e.status for e in db.session.get(Accreditation, acc.id).events] == ["active", "suspended", "active", "withdrawn"]
    page = text(c.get(url))
    for reason in ("专项检查发现学时造假", "整改验收合格", "再次造假"):
        assert reason in page
    assert f'action="{change}"' not in page  # withdrawn stays withdrawn
    r = c.post(change, data={"status": "active", "reason": "试图恢复", "csrf_token": t})
    assert "不能恢复" in text(c.get(url)) and db.session.get(Accreditation, acc.id).status == "withdrawn"
    ent = f.org(desk.world.reg, "enterprise")
    c.post(f"/console/organisations/{ent.id}/accreditations", data={"categories": ["welding"], "valid_from": "2025-01-01",
                                                                   "valid_until": "2030-01-01", "csrf_token": t})
    assert "只有培训机构和考试点需要资质" in text(c.get(f"/console/organisations/{ent.id}"))


def test_regulator_pages_keys_of_other_organisations_shown_once_and_revoked(app, client):
    desk = Desk(app, client)
    c = desk.client("organisations")
    insp = f.org(desk.world.reg, "inspectorate", "市执法支队")
    url = f"/console/organisations/{insp.id}"
    t = token(c, url)
    c.post(f"{url}/keys", data={"holder_name": "", "csrf_token": t})
    assert "请填写持有人姓名" in text(c.get(url))
    r = c.post(f"{url}/keys", data={"holder_name": "李明", "holder_badge": "豫A1024", "expires_on": "2099-12-31",
                                    "csrf_token": t})
    assert r.status_code == 201
    full = re.search(r'id="api-key">([^<]+)<', text(r)).group(1)
    key_id = re.search(r'<dd class="mono">([0-9a-f]{16})</dd>', text(r)).group(1)
    assert full not in text(c.get(url)) and "李明" in text(c.get(url))
    api = f.Api(client, full, insp.org)
    assert api.get(f"/api/v1/organizations/{insp.id}").status_code == 200
    assert db.session.get(ApiKey, key_id).holder_badge == "豫A1024"
    c.post(f"{url}/keys/{key_id}/revoke", data={"csrf_token": t})
    assert api.get(f"/api/v1/organizations/{insp.id}").status_code == 401
    assert "已吊销" in text(c.get(url))
    own = f"/console/organisations/{desk.world.reg.id}"
    before = db.session.query(ApiKey).filter(ApiKey.organization_id == desk.world.reg.id).count()
    c.post(f"{own}/keys", data={"holder_name": "自己", "csrf_token": t})
    assert "按人发放" in text(c.get(own))
    assert db.session.query(ApiKey).filter(ApiKey.organization_id == desk.world.reg.id).count() == before
    reg_key = db.session.scalar(select(ApiKey.id).where(ApiKey.organization_id == desk.world.reg.id))
    c.post(f"{own}/keys/{reg_key}/revoke", data={"csrf_token": t})
    assert db.session.get(ApiKey, reg_key).revoked_at is None


def test_regulator_pages_bulk_revocation_of_a_period_with_its_report(app, client):
    desk = Desk(app, client)
    w = desk.world
    _, _, first = certified(w, minutes=60)
    _, _, second = certified(w, minutes=60)
    c = desk.client("findings")
    t = token(c, "/console/revocations")
    assert w.body.org["name"] in text(c.get(f"/console/revocations?issuer={w.body.id}"))
    today = f.days_ago(0).date()
    r = c.post("/console/revocations", data={"issuer_id": w.body.id, "issued_from": str(today), "csrf_token": t,
                                             "issued_until": str(today - timedelta(days=1)), "reason": "造假"})
    assert r.status_code == 422 and "请填写有效期" in text(r)
    r = c.post("/console/revocations", data={"issuer_id": w.body.id, "issued_from": str(today), "csrf_token": t,
                                             "issued_until": str(today), "reason": ""})
    assert r.status_code == 422 and verify(client, first["qr_text"])["result"] == "valid"
    r = c.post("/console/revocations", data={"issuer_id": w.centre.id, "issued_from": str(today), "csrf_token": t,
                                             "issued_until": str(today), "reason": "造假"})
    assert r.status_code == 422 and "请选择培训机构" in text(r)
    r = c.post("/console/revocations", data={"issuer_id": w.body.id, "issued_from": str(today), "csrf_token": t,
                                             "issued_until": str(today), "reason": "该机构本日批量伪造考勤"})
    assert r.status_code == 302
    report = text(c.get(r.headers["Location"]))
    assert "已撤销 2 张证书，跳过 0 张" in report and "该机构本日批量伪造考勤" in report
    assert first["serial"] in report and second["serial"] in report and w.body.org["name"] in report
    for cert in (first, second):
        assert verify(client, cert["qr_text"])["result"] == "revoked"
    again = c.post("/console/revocations", data={"issuer_id": w.body.id, "issued_from": str(today), "csrf_token": t,
                                                 "issued_until": str(today), "reason": "再次执行"})
    assert "已撤销 0 张证书，跳过 2 张" in text(c.get(again.headers["Location"]))
    assert text(c.get("/console/revocations")).count("/console/revocations/") == 2
