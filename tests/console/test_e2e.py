"""End to end in a real headless Chromium: a training body's clerk signs in (password and TOTP),
uploads a class of 40, schedules its sessions and records attendance for the whole class; an exam
centre's new clerk sets up the authenticator at first sign-in and uploads the results; the clerk
issues everyone ready in one action and prints the class's cards; a worker looks up a
certificate. Each main page is saved to docs/img/console-*.png (desktop 1280x800, phone 390x844).

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` package (driven with
``executable_path``; no browser is ever downloaded). Skipped, saying why, when either is absent.
"""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import pyotp
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
_shot = screenshots("console-")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real app on a free loopback port, on its own SQLite database, with its parties."""
    with served_world(tmp_path_factory.mktemp("e2e"), lambda app: _seed(), PUBLIC_BASE_URL="http://127.0.0.1",
                      FINDINGS_LATE_RECORDS="off") as world:
        yield world


def _seed() -> dict:
    from training.accounts import service as accounts, totp
    from training.accounts.api_keys import Caller
    from training.cli import bootstrap
    from training.db import db, utcnow
    from training.parties.models import Organization
    from training.parties.service import accredit, create_organization
    from training.people.identity import generate_credit_code
    rng = random.Random(8)
    boot = bootstrap("郑州市应急管理局")
    reg = db.session.get(Organization, boot["organization_id"])
    caller = Caller("seed", reg.id, "regulator", reg.name, None, None)
    today = datetime.now(CST).date()
    orgs = {}
    for kind, name in (("training_body", "郑州市安全生产培训学校"), ("exam_centre", "郑州市特种作业操作考试中心")):
        org = create_organization({"name": name, "kind": kind, "credit_code": generate_credit_code(rng)})
        accredit(org, {"categories": ["confined_space", "welding"], "valid_from": today - timedelta(days=300),
                       "valid_until": today + timedelta(days=700)}, caller)
        orgs[kind] = org
    clerk, _ = accounts.create_account(orgs["training_body"], {"login": "zhang.min", "name": "张敏", "role": "clerk"}, None)
    clerk.password_hash, clerk.must_change_password = accounts.hash_password("Anzheng-clerk-2025"), 0
    secret, _ = totp.start_enrolment(clerk)
    clerk.totp_enrolled_at = utcnow()
    admin, _ = accounts.create_account(orgs["training_body"], {"login": "li.qiang", "name": "李强", "role": "administrator"}, None)
    for name, role in (("王芳", "officer"), ("赵磊", "clerk")):
        accounts.create_account(orgs["training_body"], {"login": f"user{rng.randrange(10**5)}", "name": name, "role": role}, None)
    examiner, once = accounts.create_account(orgs["exam_centre"], {"login": "chen.jing", "name": "陈静", "role": "clerk"}, None)
    admin.password_hash, admin.must_change_password = accounts.hash_password("Anzheng-admin-2025"), 0
    admin_secret, _ = totp.start_enrolment(admin)
    admin.totp_enrolled_at = utcnow()
    db.session.commit()
    return {"clerk_secret": secret, "admin_secret": admin_secret, "examiner_once": once}


def _class_rows(n: int = 40):
    from training.demo import chinese_name
    from training.people.identity import generate_id_number
    rng = random.Random(40)
    return [(chinese_name(rng), generate_id_number(rng)) for _ in range(n)]


def _csv(header: list[str], rows) -> bytes:
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def test_e2e_class_of_40_from_roster_to_worker_lookup(live, browser, tmp_path):
    base, people = live["base"], _class_rows(40)
    desk = context(browser)
    page = desk.new_page()
    page.goto(f"{base}/console/sign-in")
    _shot(page, "sign-in")

    # 1. The clerk signs in with password and the authenticator code.
    sign_in(page, base, "zhang.min", "Anzheng-clerk-2025", live["clerk_secret"], live["app"])
    assert "郑州市安全生产培训学校" in page.content()

    # 2. A class, and its roster of 40 uploaded as CSV.
    page.goto(f"{base}/console/classes")
    page.fill("#name", "2025年第12期有限空间作业安全培训班")
    page.select_option("#category", "confined_space")
    page.click("form[action='/console/classes'] button[type=submit]")
    page.wait_for_url(f"{base}/console/classes/*")
    class_url = page.url
    roster = tmp_path / "名单.csv"
    roster.write_bytes(_csv(["姓名", "身份证号"], people))
    page.set_input_files("#file-roster", str(roster))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("text=名单上传结果")
    assert page.locator("table.data tbody tr").count() == 40
    assert people[0][1] not in page.content()  # masked, never the full number
    _shot(page, "roster-report")
    page.goto(class_url)
    _shot(page, "roster")

    # 3. A trainer, three 8-hour sessions in the past, attendance for the whole class.
    page.goto(f"{base}/console/trainers")
    page.fill("#t-name", "孙建国")
    page.fill("#t-id", _class_rows(41)[40][1])
    page.click("form[action='/console/trainers'] button[type=submit]")
    page.wait_for_selector("text=已登记教师")
    _shot(page, "trainers")
    today = datetime.now(CST).date()
    for back in (12, 11, 10):
        page.goto(f"{class_url}/sessions")
        page.fill("#date", str(today - timedelta(days=back)))
        page.fill("#start", "08:30")
        page.fill("#hours", "8")
        page.fill("#location", "第一教室")
        page.click("form[action$='/sessions'] button[type=submit]")
        page.wait_for_selector("text=已添加课程")
    _shot(page, "sessions")
    page.goto(f"{class_url}/attendance")
    page.click(".js-all")
    page.click("form.js-grid button[type=submit]")
    page.wait_for_selector("text=已记录 120 条考勤")
    _shot(page, "attendance")
    page.emulate_media(media="print")
    _shot(page, "attendance-print")
    page.emulate_media(media="screen")

    # 4. The exam centre's new clerk: one-time password, authenticator set-up, own password.
    centre = context(browser).new_page()
    centre.goto(f"{base}/console/sign-in")
    centre.fill("#login", "chen.jing")
    centre.fill("#password", live["examiner_once"])
    centre.click("button[type=submit]")
    centre.wait_for_selector("#totp-secret")
    _shot(centre, "enrol")
    secret = "".join(centre.inner_text("#totp-secret").split())
    centre.fill("#code", pyotp.TOTP(secret).now())
    centre.click("form[action='/console/sign-in/code'] button[type=submit]")
    centre.wait_for_url(f"{base}/console/password")
    centre.fill("#current", live["examiner_once"])
    centre.fill("#new", "Exam-centre-2025!")
    centre.fill("#new2", "Exam-centre-2025!")
    centre.click("form[action='/console/password'] button[type=submit]")
    centre.wait_for_url(f"{base}/console/")
    taken = f"{today - timedelta(days=5)} 09:00"
    results = [(number, name, "有限空间作业安全培训", taken, 75, 62 if i in (7, 23) else 86 + i % 12, 90, "刘考评")
               for i, (name, number) in enumerate(people)]
    sheet = tmp_path / "成绩.csv"
    sheet.write_bytes(_csv(["身份证号", "姓名", "考试类别", "考试时间", "考试用时", "理论成绩", "实操成绩", "考评员"], results))
    centre.goto(f"{base}/console/exams")
    centre.set_input_files("#file-results", str(sheet))
    centre.click("form[enctype] button[type=submit]")
    centre.wait_for_selector("text=考试成绩上传结果")
    assert centre.locator("table.data tbody tr").count() == 40
    _shot(centre, "results-report")
    centre.goto(f"{base}/console/exams")
    _shot(centre, "exams")
    centre.context.close()

    # 5. Evidence per trainee, then everyone ready issued in one action with progress.
    page.goto(f"{class_url}/evidence")
    _shot(page, "evidence")
    page.click("form.js-issue button[type=submit]")
    page.wait_for_selector("#issue-done:not([hidden])", timeout=120_000)
    assert "完成：已处理全部 40 人" in page.inner_text("#issue-progress")
    _shot(page, "issue")
    page.goto(f"{class_url}/evidence")
    assert page.locator(".badge.ok:has-text('已发证')").count() >= 38
    pdf = page.request.get(f"{class_url}/cards.pdf")
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    from pypdf import PdfReader
    assert len(PdfReader(io.BytesIO(pdf.body())).pages) == 38
    page.goto(f"{base}/console/certificates")
    _shot(page, "certificates")
    serial = page.inner_text("table.data tbody tr:first-child td.mono a").strip()
    page.click("table.data tbody tr:first-child td.mono a")
    page.wait_for_selector("text=证书信息")
    _shot(page, "certificate")
    page.goto(f"{base}/console/")
    _shot(page, "home")
    desk.close()

    # 6. The administrator's accounts page.
    admin = context(browser).new_page()
    sign_in(admin, base, "li.qiang", "Anzheng-admin-2025", live["admin_secret"], live["app"])
    admin.goto(f"{base}/console/accounts")
    _shot(admin, "accounts")
    admin.context.close()
    phone = context(browser, phone=True).new_page()
    sign_in(phone, base, "zhang.min", "Anzheng-clerk-2025", live["clerk_secret"], live["app"])
    phone.goto(f"{class_url}/evidence")
    _shot(phone, "evidence-phone")
    phone.context.close()

    # 7. The worker looks up their own certificate, on a desktop and on a phone.
    with live["app"].app_context():
        from certificates.models import Certificate
        from training.db import db
        cert = db.session.get(Certificate, serial)
        protector = live["app"].extensions["identity"]
        holder = next(number for _, number in people if protector.matches(number, cert.worker.id_hash))
    for phone in (False, True):
        ctx = context(browser, phone)
        worker = ctx.new_page()
        worker.goto(f"{base}/worker")
        if phone:
            _shot(worker, "worker-lookup-phone")
        worker.fill("#serial", serial)
        worker.fill("#id_number", holder)
        worker.click("form[action='/worker'] button[type=submit]")
        worker.wait_for_selector("text=我的证书")
        assert holder not in worker.content()
        assert "有效" in worker.content()
        _shot(worker, "worker-phone" if phone else "worker", full=phone)
        ctx.close()

    # 8. A confirmed finding names the worker: they see it and lodge an appeal.
    with live["app"].app_context():
        from verify.findings.service import raise_finding, set_status
        found = raise_finding("exam_too_fast", "medium", f"e2e:{serial}", {"minutes": 9}, "考试用时过短",
                              [("worker", cert.worker_id, cert.worker.name)], worker_id=cert.worker_id,
                              certificate_serial=serial)
        set_status(found, "confirmed", "考场监控显示该考生9分钟交卷，复核属实。", None)
        db.session.commit()
    worker = context(browser, phone=True).new_page()
    worker.goto(f"{base}/worker")
    worker.fill("#serial", serial)
    worker.fill("#id_number", holder)
    worker.click("form[action='/worker'] button[type=submit]")
    worker.click("details.more summary")
    worker.fill("textarea[name=explanation]", "我当天按时参加考试，交卷时间是监考老师记错了，请调取考场记录核实。")
    worker.fill("form[action='/worker/appeal'] input[name=id_number]", holder)
    worker.click("form[action='/worker/appeal'] button[type=submit]")
    worker.wait_for_selector("text=申诉已提交")
    assert holder not in worker.content()
    _shot(worker, "worker-appeal-phone", full=True)
    worker.context.close()

    missing = [n for n in ("sign-in", "roster", "attendance", "evidence", "issue", "worker", "worker-phone")
               if not (SHOTS / f"console-{n}.png").exists()]
    assert not missing, missing
