"""End to end in a real headless Chromium, on the demo world with its staged frauds
(``verify.demo``): a regulator's analyst signs in with password and TOTP, reads the
dashboard and the review queue, confirms a fast-exam finding with a reason (the public verdict
turns "suspect"); the worker finds it on the public worker page and lodges an appeal; the analyst
upholds it, and the verdict is restored for the public and on the worker's page. Each main page
is saved to docs/img/console-regulator-*.png (desktop 1280x800, the dashboard also on a 390x844
phone).

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` package (driven with
``executable_path``; no browser is ever downloaded). Skipped, saying why, when either is absent.
"""
from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tests.browser import (  # noqa: F401  (browser: a fixture)
    PHONE_VIEW,
    SHOTS,
    browser,
    context,
    needs_browser,
    screenshots,
    served_world,
    sign_in,
)

pytestmark = needs_browser
PASSWORD = "Regulator-analyst-2025"
_shot = screenshots("console-regulator-")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real app on a free loopback port, on its own SQLite database holding the demo world."""
    with served_world(tmp_path_factory.mktemp("e2e-regulator"), _seed, PUBLIC_BASE_URL="http://127.0.0.1") as world:
        yield world


def _seed(app) -> dict:
    """The demo world and its frauds, an analyst, and one worker (whose identity number only this
    test knows) with a certificate and an open finding of a 9-minute exam."""
    from sqlalchemy import select

    from certificates.issuance.service import issue_certificate
    from training.accounts import service as accounts, totp
    from training.accounts.api_keys import Caller
    from training.cli import bootstrap
    from training.db import db, utcnow
    from training.demo import ORGS, load_demo
    from training.evidence.service import record_attendance, record_exam, record_session
    from training.parties.models import Organization
    from training.people.identity import generate_id_number
    from training.people.service import register_trainer, register_worker
    from verify.demo import stage_demo_frauds
    from verify.findings.models import Finding
    from wsgi import DEMO_REGULATOR, _issue_demo_certificates

    regulator = db.session.get(Organization, bootstrap(DEMO_REGULATOR)["organization_id"])
    app.config.update(FINDINGS_LATE_RECORDS=False, FINDINGS_ISSUANCE_SPIKES=False)
    made = load_demo(regulator, seed=7)
    db.session.commit()
    _issue_demo_certificates(made["ready"])
    analyst, _ = accounts.create_account(regulator, {"login": "wu.lijuan", "name": "吴丽娟", "role": "analyst",
                                                     "duties": ["findings", "organisations"]}, None)
    analyst.password_hash, analyst.must_change_password = accounts.hash_password(PASSWORD), 0
    secret, _ = totp.start_enrolment(analyst)
    analyst.totp_enrolled_at = utcnow()
    db.session.commit()
    demo = stage_demo_frauds()  # as flask demo does, after the demo's people exist: the analyst acts

    body = db.session.scalar(select(Organization).where(Organization.name == ORGS[0][1]))
    centre = db.session.scalar(select(Organization).where(Organization.name == ORGS[3][1]))
    def as_(org):
        return Caller("e2e", org.id, org.kind, org.name, None, None)
    number = generate_id_number(random.Random(2025))
    worker, _ = register_worker({"name": "郭晓东", "id_number": number}, app.extensions["identity"], as_(body))
    trainer, _ = register_trainer({"name": "孙建国", "id_number": generate_id_number(random.Random(2026))},
                                  app.extensions["identity"], as_(body))
    start = (utcnow() - timedelta(days=30)).replace(hour=0, minute=30, second=0, microsecond=0)
    for day in range(3):
        s = record_session({"category": "confined_space", "kind": "initial", "starts_at": start + timedelta(days=day),
                            "ends_at": start + timedelta(days=day, hours=8), "location": "第2教室",
                            "trainer_id": trainer.id, "capacity": 30}, as_(body))
        record_attendance(s, {"worker_id": worker.id, "check_in": s.starts_at, "check_out": s.ends_at}, as_(body))
    record_exam({"worker_id": worker.id, "category": "confined_space", "taken_at": start + timedelta(days=6),
                 "duration_minutes": 9, "theory_score": 92, "practical_score": 88, "examiner": "刘考评"}, as_(centre))
    cert = issue_certificate({"worker_id": worker.id, "category": "confined_space"}, as_(body),
                             app.extensions["signer"], app.config["PUBLIC_BASE_URL"])
    db.session.commit()
    fast = db.session.scalar(select(Finding.id).where(Finding.worker_id == worker.id, Finding.kind == "exam_too_fast"))
    parts = urlsplit(cert.qr_text)
    return {"secret": secret, "number": number, "serial": cert.serial, "finding": fast, "case": demo["case"],
            "verify_path": parts.path + (f"?{parts.query}" if parts.query else "")}


def _sign_in(page, live) -> None:
    sign_in(page, live["base"], "wu.lijuan", PASSWORD, live["secret"], live["app"])


def _worker_page(browser, live):
    page = context(browser, phone=True).new_page()
    page.goto(f"{live['base']}/worker")
    page.fill("#serial", live["serial"])
    page.fill("#id_number", live["number"])
    page.click("form[action='/worker'] button[type=submit]")
    page.wait_for_selector("text=我的证书")
    return page


def test_e2e_analyst_confirms_a_finding_and_upholds_the_workers_appeal(live, browser):
    base = live["base"]
    page = context(browser).new_page()

    # 1. The analyst signs in with password and authenticator, and reads the dashboard and queue.
    _sign_in(page, live)
    assert "待核查的问题线索" in page.content()
    page.goto(f"{base}/console/dashboard")
    assert page.locator("svg.chart").count() == 3 and "郑州市特种作业操作考试中心" in page.content()
    _shot(page, "dashboard", full=True)
    page.click("nav.nav a[href='/console/findings']")
    page.wait_for_selector("h1:has-text('问题线索审核')")
    assert page.locator("table.data tbody tr").count() >= 6
    _shot(page, "findings")

    # 2. The worker's fast exam: evidence and parties in plain words; confirmed with a reason.
    page.select_option("select[name=kind]", "exam_too_fast")
    page.click("form.filters button[type=submit]")
    page.click(f"a[href='/console/findings/{live['finding']}'] >> nth=0")
    page.wait_for_selector("text=系统为什么提出这条线索")
    content = page.content()
    assert "用时 9 分钟" in content and "郭晓东" in content and live["number"] not in content
    page.check("input[name=status][value=confirmed]")
    page.fill("#reason", "调取考场监控：该考生开考9分钟即交卷离场，认定考试用时过短属实。")
    _shot(page, "finding", full=True)
    page.click("form[action$='/review'] button[type=submit]")
    page.wait_for_selector("text=已认定。公众核验")
    public = context(browser, phone=True).new_page()
    public.goto(base + live["verify_path"])
    assert "存疑" in public.inner_text("section.verdict")

    # 3. The worker sees the confirmed finding on the public page and lodges an appeal.
    worker = _worker_page(browser, live)
    assert "考试" in worker.content()
    worker.click("details.more summary")
    worker.fill("textarea[name=explanation]", "我当天按时参加考试，用时九十分钟，交卷时间是机考系统记错了，请调取考场监控核实。")
    worker.fill("form[action='/worker/appeal'] input[name=id_number]", live["number"])
    worker.click("form[action='/worker/appeal'] button[type=submit]")
    worker.wait_for_selector("text=申诉已提交")
    worker.context.close()

    # 4. The analyst reads the appeal and upholds it with a reason.
    page.goto(f"{base}/console/appeals")
    assert page.locator("table.data tbody tr").count() >= 2  # the demo's own appeal is waiting too
    _shot(page, "appeals")
    page.click("table.data tbody tr:first-child a.btn")
    page.wait_for_selector("text=机考系统记错了")
    assert live["number"] not in page.content()
    page.check("input[name=decision][value=upheld]")
    page.fill("#reason", "调取考场监控和机考系统日志，交卷时间记录有误，该考生实际用时88分钟，申诉成立。")
    _shot(page, "appeal", full=True)
    page.click("form[action$='/decide'] button[type=submit]")
    page.wait_for_selector("text=申诉成立：线索已排除")

    # 5. The verdict is restored: for the public, and on the worker's own page.
    public.goto(base + live["verify_path"])
    assert "有效" in public.inner_text("section.verdict") and "存疑" not in public.inner_text("section.verdict")
    public.context.close()
    worker = _worker_page(browser, live)
    assert "没有涉及您的经核实的问题线索" in worker.content()
    worker.context.close()
    page.goto(f"{base}/console/findings/{live['finding']}")
    assert "已排除" in page.content() and "申诉成立" in page.content()

    # 6. The demo's case, organisations and accreditation, for the screenshots.
    page.goto(f"{base}/console/cases/{live['case']}")
    assert "尚未陈述" in page.content() and "认定后将撤销的证书" in page.content()
    _shot(page, "case", full=True)
    page.goto(f"{base}/console/cases")
    _shot(page, "cases")
    page.goto(f"{base}/console/organisations")
    _shot(page, "organisations")
    page.click("table.data a:has-text('郑州市安全生产培训学校')")
    page.wait_for_selector("h2:has-text('资质')")
    _shot(page, "organisation", full=True)
    page.context.close()

    phone = context(browser, phone=True).new_page()
    _sign_in(phone, live)
    phone.goto(f"{base}/console/dashboard")
    _shot(phone, "dashboard-phone", full=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEW["width"]
    phone.goto(f"{base}/console/cases/{live['case']}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEW["width"]
    phone.context.close()

    missing = [n for n in ("dashboard", "findings", "finding", "appeals", "appeal", "case", "organisation",
                           "dashboard-phone") if not (SHOTS / f"console-regulator-{n}.png").exists()]
    assert not missing, missing
