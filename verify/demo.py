"""Demo frauds: on the demo world (``training.demo.load_demo``), stage a handful of the frauds the
service exists to catch, through the real services, so that the rules raise findings and the
regulator's queue, dashboard and case page have something true to show:

- a worker "attending" two classes at once, at two training bodies (``training_overlap``);
- an exam finished and passed in 12 minutes (``exam_too_fast``);
- two papers with the same wrong answers, at the same exam centre (``identical_answers``);
- an inspector's scans of one certificate about 300 km apart within 40 minutes (``certificate_clone``);
- a person found welding at a site with no certificate at all (``no_certificate_on_duty``).

Then a regulator's analyst confirms the fast exam, the training body named in the overlap appeals
it, and a case is opened from the confirmed finding (the exam centre heard, the others not yet).
Used by ``flask demo`` and nowhere in production. Identity numbers are generated, used in memory
(to register people and for the inspector's check) and never written anywhere but the service's
own protected columns.
"""
from __future__ import annotations

import hashlib
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from certificates.issuance.service import issue
from certificates.models import Certificate
from training.accounts.api_keys import Caller
from training.accounts.models import Account
from training.clock import CHINA
from training.db import db, utcnow
from training.demo import ORGS, chinese_name
from training.evidence.models import Attendance, TrainingSession
from training.evidence.service import record_attendance, record_exam, record_session
from training.evidence.standing import enrol
from training.parties.models import ApiKey, Organization, Site
from training.parties.service import create_site, issue_api_key
from training.people.identity import generate_id_number
from training.people.service import register_trainer, register_worker
from verify.cases import appeals, service as cases
from verify.employment.service import confirm_employment, create_employment
from verify.findings import service as findings
from verify.findings.models import Finding
from verify.inspections.service import record_inspection
from verify.verification.scans import record_scan
from verify.verification.service import verify_text

XINYANG = (32.06, 114.07)  # about 300 km south of the demo's Zhengzhou site
MARKER = "信阳市平桥区二号工地"


def _org(name: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.name == name))


def _as(org: Organization, key_id: str = "demo", holder=(None, None)) -> Caller:
    return Caller(key_id, org.id, org.kind, org.name, *holder)


def _analyst(regulator: Organization) -> Caller:
    """The demo analyst when the demo accounts exist (so the trail names a person), else the
    regulator's own (bootstrap) key."""
    from training.accounts import service as accounts
    for person in db.session.scalars(select(Account).where(Account.organization_id == regulator.id)):
        if accounts.may(person, "findings"):
            return accounts.caller_for(person)
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.organization_id == regulator.id)
                               .order_by(ApiKey.created_at))
    return _as(regulator, key_id or "demo")


def _digest(wrong: list[str]) -> dict:
    return {"answers_digest": hashlib.sha256("\n".join(sorted(wrong)).encode()).hexdigest(), "wrong_count": len(wrong)}


def stage_demo_frauds(seed: int = 11) -> dict:
    """Stage the frauds, confirm one, appeal one, open a case; returns what it made (ids). Runs
    once: a demo that already has them is left alone."""
    if db.session.scalar(select(Site.id).where(Site.name == MARKER)):
        return {}
    app = current_app._get_current_object()
    saved = {k: app.config.get(k, True) for k in ("FINDINGS_LATE_RECORDS", "FINDINGS_ISSUANCE_SPIKES")}
    app.config.update(dict.fromkeys(saved, False))  # the staged records describe the past on purpose
    try:
        made = _stage(random.Random(seed))
        db.session.commit()
    finally:
        app.config.update(saved)
    return made


def _stage(rng: random.Random) -> dict:
    first = {}
    for kind, name, _, _ in ORGS:
        first.setdefault(kind, name)
    body, other_body = _org(ORGS[0][1]), _org(ORGS[1][1])
    centre, enterprise = _org(first["exam_centre"]), _org(first["enterprise"])
    agency, inspectorate = _org(first["labour_agency"]), _org(first["inspectorate"])
    regulator = db.session.scalar(select(Organization).where(Organization.kind == "regulator"))
    protector, now = current_app.extensions["identity"], utcnow()
    key, _ = issue_api_key(inspectorate, {"holder": {"name": "赵军", "badge": "豫应急执法0417"}}, None)
    officer = _as(inspectorate, key.id, ("赵军", "豫应急执法0417"))
    here = db.session.scalar(select(Site).where(Site.enterprise_id == enterprise.id))
    there = create_site({"name": MARKER, "latitude": XINYANG[0], "longitude": XINYANG[1]}, officer)  # also the marker
    def person(by):
        return register_worker({"name": chinese_name(rng), "id_number": generate_id_number(rng)},
                               protector, _as(by))[0]

    # A class of four in confined-space work at the first body, then their exams.
    trainer = register_trainer({"name": chinese_name(rng), "id_number": generate_id_number(rng)}, protector, _as(body))[0]
    crew = [person(body) for _ in range(4)]
    start = (now - timedelta(days=40)).replace(hour=0, minute=30, second=0, microsecond=0)  # 08:30 China time
    for day in range(3):
        s = record_session({"category": "confined_space", "kind": "initial", "starts_at": start + timedelta(days=day),
                            "ends_at": start + timedelta(days=day, hours=8), "location": f"{body.name}第3教室",
                            "trainer_id": trainer.id, "capacity": 30}, _as(body))
        for w in crew:
            record_attendance(s, {"worker_id": w.id, "check_in": s.starts_at, "check_out": s.ends_at}, _as(body))
    taken = start + timedelta(days=5, hours=1)
    copied = _digest(["q7:B", "q18:D", "q23:A", "q31:C", "q44:B"])
    papers = [(12, 86, {}), (74, 88, copied), (81, 90, copied), (66, 93, _digest(["q3:C", "q9:A"]))]
    for w, (minutes, theory, digest) in zip(crew, papers):
        record_exam({"worker_id": w.id, "category": "confined_space", "taken_at": taken, "duration_minutes": minutes,
                     "theory_score": theory, "practical_score": 85, "examiner": chinese_name(rng), **digest}, _as(centre))
    certs = [issue({"worker_id": w.id, "category": "confined_space"}, _as(body)) for w in crew]
    confirm_employment(create_employment({"worker_id": crew[0].id, "employer_id": enterprise.id, "via_id": agency.id,
                                          "role": "confined_space_worker",
                                          "starts_on": (now + CHINA).date() - timedelta(days=20)}, _as(agency)),
                       _as(enterprise))  # placed by the agency, confirmed by the host

    # A certified welder of the demo "attends" a class at another body during one of their own.
    cert = db.session.scalars(select(Certificate).where(Certificate.issuer_id == body.id, Certificate.category == "welding")
                              .order_by(Certificate.issued_at)).first()
    att = db.session.scalars(select(Attendance).join(TrainingSession).where(
        Attendance.worker_id == cert.worker_id, TrainingSession.organization_id == body.id)
        .order_by(Attendance.check_in)).first()
    other_trainer = register_trainer({"name": chinese_name(rng), "id_number": generate_id_number(rng)}, protector,
                                     _as(other_body))[0]
    twin = record_session({"category": "welding", "kind": "initial", "starts_at": att.check_in, "ends_at": att.check_out,
                           "location": f"{other_body.name}实训车间", "trainer_id": other_trainer.id, "capacity": 30},
                          _as(other_body))
    enrol(twin, cert.worker_id, _as(other_body))
    record_attendance(twin, {"worker_id": cert.worker_id, "check_in": att.check_in, "check_out": att.check_out},
                      _as(other_body))

    # An inspector scans one card in Zhengzhou, then (40 minutes later) the same card 300 km away.
    db.session.commit()  # verification reads the registry on a connection of its own
    cloned = certs[3]
    table = current_app.extensions["key_table"]
    record_scan(verify_text(cloned.qr_text, table, "inspectorate"), officer,
                {"site_id": here.id, "scanned_at": now - timedelta(minutes=40)}, offline=True, clock_offset_s=0)
    record_scan(verify_text(cloned.qr_text, table, "inspectorate"), officer, {"site_id": there.id})

    # A welder placed through the agency, found welding at the enterprise's site with no certificate.
    number = generate_id_number(rng)
    welder = register_worker({"name": chinese_name(rng), "id_number": number}, protector, _as(agency))[0]
    confirm_employment(create_employment({"worker_id": welder.id, "employer_id": enterprise.id, "via_id": agency.id,
                                          "role": "welder", "starts_on": (now + CHINA).date() - timedelta(days=3)},
                                         _as(agency)), _as(enterprise))
    record_inspection({"site_id": here.id, "started_at": now - timedelta(minutes=90),
                       "checks": [{"id_number": number, "task_role": "welder"}]}, officer)

    # The regulator's side: one finding confirmed and made a case, another appealed.
    db.session.flush()
    analyst = _analyst(regulator)
    fast = db.session.scalar(select(Finding).where(Finding.kind == "exam_too_fast", Finding.worker_id == crew[0].id))
    findings.review_finding(fast, "confirmed", "调取考场监控核实：该考生开考12分钟即交卷离场，理论成绩与其平时练习记录明显不符，认定考试作弊嫌疑属实。",
                            analyst)
    overlap = db.session.scalar(select(Finding).where(Finding.kind == "training_overlap",
                                                      Finding.worker_id == cert.worker_id))
    appeal = appeals.lodge_party_appeal({"finding_id": overlap.id, "explanation":
                                         "该学员当天在我校上课，有签到照片和监控为证；另一家机构的考勤系其系统批量导入时误录，"
                                         "对方已同意作废该条记录。请核实后排除。"}, _as(body))
    case = cases.open_case([fast.id], analyst)
    cases.add_statement(case, {"party_id": centre.id, "kind": "statement", "text":
                               "考试中心负责人到场陈述：当日机考系统计时模块故障，交卷时间记录有误，已提交系统日志和监考记录。"}, analyst)
    return {"findings": [f.id for f in db.session.scalars(select(Finding))], "confirmed": fast.id,
            "appeal": appeal.id, "case": case.id}
