"""End to end in a real headless Chromium: an enterprise's HR officer (password only: enterprises
need no authenticator) checks a crew of 50 uploaded as CSV, watches the results come in, opens an
uncleared worker's answer and prints its signed receipt (one A4 page) and the whole crew's; a clerk
records the missing team-level induction and a re-check clears the worker; a labour agency's clerk
places a new worker with the host. Pages are saved to docs/img/console-employer-*.png (desktop
1280x800, one phone 390x844).

The crew is made by the services (as factories would): 40 certified and inducted, 5 without the
certificate, 3 short of the team level, 1 whose certificate was revoked, 1 inducted only by the
agency. Needs Debian's chromium and playwright, like tests/console/test_e2e.py (skipped without).
"""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import pytest

from tests.browser import (  # noqa: F401  (browser: a fixture)
    CST,
    SHOTS,
    browser,
    context,
    needs_browser,
    screenshots,
    served_world,
    sign_in,
)

pytestmark = needs_browser
PASSWORD = "Anzheng-hr-2025!"
ROLE = "confined_space_worker"
_shot = screenshots("console-employer-")


def _utc(days_back: int, hour: int) -> datetime:
    """A China-time hour, days back, as the naive UTC the database keeps."""
    day = datetime.now(CST).date() - timedelta(days=days_back)
    return datetime(day.year, day.month, day.day, hour) - timedelta(hours=8)


def _person(org, login: str, name: str, role: str):
    from training.accounts import service as accounts
    acc, _ = accounts.create_account(org, {"login": login, "name": name, "role": role}, None)
    acc.password_hash, acc.must_change_password = accounts.hash_password(PASSWORD), 0
    return acc


def _sessions(caller, kind: str, days: list[int], trainer_id=None, level_of=None, hours: int = 8):
    from training.evidence.service import record_session
    return [record_session({"kind": kind, "category": "confined_space" if kind == "initial" else None,
                            "level": level_of[i] if level_of else None, "starts_at": _utc(d, 8),
                            "ends_at": _utc(d, 8) + timedelta(hours=hours), "location": "培训中心",
                            "trainer_id": trainer_id, "capacity": 60}, caller) for i, d in enumerate(days)]


def _attend(sessions, workers, caller):
    from training.evidence.service import record_attendance
    for s in sessions:
        for w in workers:
            record_attendance(s, {"worker_id": w.id, "check_in": s.starts_at, "check_out": s.ends_at}, caller)


def _seed(app) -> dict:
    """The crew of 50 and the organisations around it, made by the services."""
    from certificates.issuance.service import issue_certificate
    from certificates.status import change_status
    from training.accounts.api_keys import Caller
    from training.cli import bootstrap
    from training.db import db
    from training.demo import chinese_name
    from training.evidence.service import record_exam
    from training.parties.models import Organization
    from training.parties.service import accredit, create_organization
    from training.people.identity import generate_credit_code, generate_id_number
    from training.people.service import register_trainer, register_worker
    from verify.employment.service import confirm_employment, create_employment
    from verify.findings.service import raise_finding
    rng = random.Random(50)
    boot = bootstrap("郑州市应急管理局")
    reg = db.session.get(Organization, boot["organization_id"])
    def as_(org):
        return Caller("seed", org.id, org.kind, org.name, None, None)
    today = datetime.now(CST).date()
    orgs = {}
    for kind, name, industry in (("training_body", "郑州市安全生产培训学校", None),
                                 ("exam_centre", "郑州市特种作业操作考试中心", None),
                                 ("enterprise", "中建七局第三建设有限公司", "construction"),
                                 ("labour_agency", "河南人和劳务派遣有限公司", None)):
        orgs[kind] = create_organization({"name": name, "kind": kind, "credit_code": generate_credit_code(rng),
                                          **({"industry": industry} if industry else {})})
    for kind in ("training_body", "exam_centre"):
        accredit(orgs[kind], {"categories": ["confined_space"], "valid_from": today - timedelta(days=300),
                              "valid_until": today + timedelta(days=700)}, as_(reg))
    body, centre, host, agency = (orgs[k] for k in ("training_body", "exam_centre", "enterprise", "labour_agency"))
    protector, signer = app.extensions["identity"], app.extensions["signer"]
    trainer, _ = register_trainer({"name": "孙建国", "id_number": generate_id_number(rng)}, protector, as_(body))
    people = [(chinese_name(rng), generate_id_number(rng)) for _ in range(50)]
    workers = [register_worker({"name": n, "id_number": i}, protector, as_(body))[0] for n, i in people]
    certified = workers[:40] + workers[45:]
    _attend(_sessions(as_(body), "initial", [20, 19, 18], trainer.id), certified, as_(body))
    certs = {}
    for w in certified:
        record_exam({"worker_id": w.id, "category": "confined_space", "taken_at": _utc(10, 9),
                     "duration_minutes": 90, "theory_score": 88, "practical_score": 92, "examiner": "刘考评"}, as_(centre))
        certs[w.id] = issue_certificate({"worker_id": w.id, "category": "confined_space"}, as_(body), signer,
                                        "http://127.0.0.1")
    # Placed first: induction is recorded only for workers the host (or the agency in between)
    # employs. The last one came through the agency, whose own induction is all it has.
    for i, w in enumerate(workers):
        through = i < 30 or i == 49
        emp = create_employment({"worker_id": w.id, "employer_id": host.id, "via_id": agency.id if through else None,
                                 "role": ROLE, "starts_on": today}, as_(agency if through else host))
        confirm_employment(emp, as_(host))  # the host confirms what the agency placed with it
    levels = ["company", "workshop", "team"]
    company, workshop, team = _sessions(as_(host), "induction", [6, 5, 4], level_of=levels)
    _attend([company, workshop, team], workers[:45] + workers[48:49], as_(host))
    _attend([company, workshop], workers[45:48], as_(host))
    _attend(_sessions(as_(agency), "induction", [9, 8, 7], level_of=levels), workers[49:], as_(agency))
    change_status(certs[workers[48].id], "revoke", "培训记录系伪造，撤销", as_(body))
    raise_finding("exam_too_fast", "medium", f"e2e:{workers[7].id}", {"minutes": 14}, "考试用时过短",
                  [("worker", workers[7].id, workers[7].name)], worker_id=workers[7].id)
    _person(host, "liu.yang", "刘洋", "officer")
    _person(host, "wang.li", "王丽", "clerk")
    _person(agency, "zhao.min", "赵敏", "clerk")
    db.session.commit()
    return {"people": people, "host_code": host.credit_code, "short": [people[i][0] for i in (45, 46, 47)],
            "short_numbers": [people[i][1] for i in (45, 46, 47)], "newcomer": generate_id_number(rng, region="410105")}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with served_world(tmp_path_factory.mktemp("employer-e2e"), _seed, PUBLIC_BASE_URL="https://anzheng.example.cn",
                      FINDINGS_LATE_RECORDS="off") as world:
        yield world


def _sign_in(page, base, login):
    sign_in(page, base, login, PASSWORD)


def _a4_picture(pdf: bytes, name: str) -> None:
    """The first page of a PDF as a PNG at 96 dpi (794x1123 for A4), for the docs."""
    import pypdfium2
    doc = pypdfium2.PdfDocument(pdf)
    doc[0].render(scale=96 / 72).to_pil().save(SHOTS / f"console-employer-{name}.png")
    doc.close()


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_e2e_hr_officer_checks_a_crew_of_50_and_an_agency_places_a_worker(live, browser, tmp_path):
    base, people = live["base"], live["people"]
    desk = context(browser)
    page = desk.new_page()

    # 1. The HR officer signs in with the password alone and sees the day's work.
    _sign_in(page, base, "liu.yang")
    assert "中建七局第三建设有限公司" in page.content() and "未读通知" in page.content()
    _shot(page, "home")

    # 2. The crew's list: 50 rows, identity numbers and names, uploaded as CSV with the role chosen.
    crew = tmp_path / "班组名单.csv"
    crew.write_bytes(("\ufeff身份证号,姓名\n" + "".join(f"{n},{name}\n" for name, n in people)).encode())
    page.goto(f"{base}/console/prestart/crew")
    page.set_input_files("#file-crew", str(crew))
    page.select_option("#role", ROLE)
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("text=开始核查 50 人")
    assert page.locator("#crew-table tbody tr").count() == 50
    assert all(n not in page.content() for _, n in people)
    _shot(page, "crew-ready")

    # 3. Checked in chunks with a progress bar; each row's answer comes in as it is made.
    page.click("form.js-crew button[type=submit]")
    page.wait_for_selector("#crew-done:not([hidden])", timeout=120_000)
    assert page.inner_text("[data-count=cleared]") == "40" and page.inner_text("[data-count=not_cleared]") == "10"
    assert page.get_attribute("#crew-progress progress", "value") == "50"
    assert "完成：已核查全部 50 人" in page.inner_text("#crew-progress")
    assert page.locator("tr.is-not_cleared").count() == 10
    page.check("#crew-problems")  # only those who may not start, with the reasons
    assert page.locator("#crew-table tbody tr:visible").count() == 10
    _shot(page, "crew")
    page.uncheck("#crew-problems")
    receipts_href = page.get_attribute("#crew-receipts", "href")
    page.emulate_media(media="print")
    _shot(page, "crew-print")
    page.emulate_media(media="screen")

    # 4. One uncleared worker's answer, in words, and its receipt on one A4 page.
    row = page.locator("tr.is-not_cleared", has_text=live["short"][0])
    row.locator("td.result a").click()
    page.wait_for_selector(".verdict.bad")
    assert "班组级培训尚无记录" in page.content() and people[45][1] not in page.content()
    _shot(page, "answer")
    page.click("text=打印签名回执")
    page.wait_for_selector("article.receipt")
    assert "verify-receipt" in page.content() and "trust-list" in page.content()
    _shot(page, "receipt")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert _pages(pdf) == 1
    _a4_picture(pdf, "receipt-a4")  # the page as it prints, margins and all
    page.goto(base + receipts_href)  # the whole crew's receipts: one A4 page each
    assert page.locator("article.receipt").count() == 50
    assert _pages(page.pdf(format="A4")) == 50
    page.emulate_media(media="screen")

    # 5. The same answer on a phone.
    phone = context(browser, phone=True).new_page()
    _sign_in(phone, base, "liu.yang")
    phone.goto(f"{base}/console/prestart?result=not_cleared&q={live['short'][0]}")
    phone.locator("td a", has_text="查看").first.click()
    phone.wait_for_selector(".verdict.bad")
    _shot(phone, "answer-phone")
    phone.context.close()

    # 6. A clerk records the missing team level for the three; a re-check clears one of them.
    clerk = context(browser).new_page()
    _sign_in(clerk, base, "wang.li")
    clerk.goto(f"{base}/console/induction")
    clerk.select_option("#level", "team")
    clerk.fill("#date", str(datetime.now(CST).date() - timedelta(days=1)))
    clerk.fill("#start", "08:30")
    clerk.fill("#hours", "8")
    clerk.fill("#location", "项目部三楼会议室")
    clerk.click("form[action='/console/induction'] button[type=submit]")
    clerk.wait_for_selector("text=已添加教育课程")
    for name in live["short"]:
        clerk.locator("tr", has_text=name).locator("input[type=checkbox]").last.check()
    clerk.click("form.js-grid button[type=submit]")
    clerk.wait_for_selector("text=已记录 3 条教育出勤")
    _shot(clerk, "induction")
    clerk.context.close()
    page.goto(f"{base}/console/prestart")
    page.fill("#who", live["short_numbers"][0])
    page.select_option("#role", ROLE)
    page.click("form[action='/console/prestart'] button[type=submit]")
    page.wait_for_selector(".verdict.ok")
    assert live["short_numbers"][0] not in page.content()
    page.goto(f"{base}/console/prestart")
    _shot(page, "prestart")
    page.goto(f"{base}/console/notices")
    assert "证书撤销" in page.content()
    _shot(page, "notices")
    desk.close()

    # 7. The labour agency's clerk places a new worker with the host, by identity number and credit code.
    agency = context(browser).new_page()
    _sign_in(agency, base, "zhao.min")
    newcomer = live["newcomer"]
    agency.goto(f"{base}/console/employments")
    agency.fill("#id_number", newcomer)
    agency.fill("#name", "马建军")
    agency.select_option("#role", "welder")
    agency.fill("#host_code", live["host_code"])
    agency.click("form[action='/console/employments'] button[type=submit]")
    agency.wait_for_selector("text=已登记用工")
    assert newcomer not in agency.content() and newcomer[:6] + "********" + newcomer[-4:] in agency.content()
    _shot(agency, "placed")
    placed_url = agency.url
    assert "等待用工单位" in agency.content()  # the agency sees it waits for the host
    agency.goto(f"{base}/console/employments")
    assert agency.locator("table.data tbody tr").count() == 25  # 30 placed before, paged by 25
    _shot(agency, "employments")
    agency.context.close()

    # 8. The host's clerk sees the placement waiting for confirmation (phone, then desktop) and confirms it.
    phone = context(browser, phone=True).new_page()
    _sign_in(phone, base, "wang.li")
    phone.goto(placed_url)
    phone.wait_for_selector("#pending")
    _shot(phone, "pending-phone")
    phone.context.close()
    host = context(browser).new_page()
    _sign_in(host, base, "wang.li")
    host.goto(placed_url)
    _shot(host, "pending")
    host.click("#pending button[type=submit]")
    host.wait_for_selector("text=已确认这条用工")
    assert host.locator("#pending").count() == 0 and "已确认" in host.content()
    host.context.close()

    missing = [n for n in ("home", "crew-ready", "crew", "answer", "receipt", "answer-phone", "induction", "placed",
                           "pending", "pending-phone")
               if not (SHOTS / f"console-employer-{n}.png").exists()]
    assert not missing, missing
