"""How the rules run: each family's entry point subscribed to the signal of the evidence it weighs (sessions, attendance, exams, voids, certificates, scans), and what a voided record sets off."""
from __future__ import annotations

from flask import Flask

from verify.rules.common import load_rules


def init_app(app: Flask) -> None:
    from certificates.signals import certificate_issued, certificates_issued
    from training.signals import attendance_recorded, exam_recorded, record_voided, session_recorded
    from verify.rules import (
        certificates as rules_certificates,
        exams as rules_exams,
        scans as rules_scans,
        training as rules_training,
    )
    from verify.signals import scan_recorded
    app.extensions["findings_rules"] = load_rules(app.config)
    session_recorded.connect(rules_training.on_session, weak=False)
    attendance_recorded.connect(rules_training.on_attendance, weak=False)
    exam_recorded.connect(rules_exams.on_exam, weak=False)
    record_voided.connect(on_void, weak=False)
    certificate_issued.connect(rules_certificates.on_certificate, weak=False)
    certificates_issued.connect(rules_certificates.on_certificates, weak=False)
    scan_recorded.connect(rules_scans.on_scan, weak=False)


def on_void(record, **_):
    """A voided record withdraws the open findings resting on it; then the rules run again. (A
    voided skill certificate withdraws nothing: no finding rests on one; the exams it stood for
    are weighed again without it, and so are the certificates issued on it.)"""
    from training.evidence.models import Attendance, Credential
    from verify.findings.service import withdraw_resting_on
    from verify.rules import certificates as rules_certificates, exams as rules_exams, training as rules_training
    kind = ("attendance" if isinstance(record, Attendance) else
            "credential" if isinstance(record, Credential) else "exam")
    if kind != "credential":
        withdraw_resting_on(f"{kind}:{record.id}")
    if kind == "attendance":
        rules_training.recheck_worker(record.worker_id, record.session_id)
    else:
        rules_exams.recheck_worker(record.worker_id, record.category)
    rules_certificates.recheck_certificates(record.worker_id, record.id)
