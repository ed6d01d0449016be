"""Batch issuance a group at a time (certificates/issuance/batch.py): every outcome row-by-row issuance
gives, the same stored records, one transaction per group, a handful of statements per group."""
from __future__ import annotations

import json
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from certificates.issuance import batch
from certificates.issuance.service import snapshot
from certificates.models import Certificate, CertificateEvent, CertificateToken
from certificates.token import decode
from tests import factories as f
from tests.certificates.test_qr import decode as read_qr
from tests.verify.test_online import verify
from tests.verify.test_rules import found, tune
from training.accounts.api_keys import Caller
from training.db import db
from training.db.audit import verify_chain
from training.db.models import AuditEntry
from training.evidence.hours import evidence_for
from training.people.models import Worker
from verify.rules.models import RuleCounter


def _ready(w, category="welding", hours=108, **exam):
    number = f.id_number()
    wk = f.worker(w.body, number)
    f.train(w.body, w.trainer["id"], [wk["id"]], category=category, hours=hours, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5), category=category, **exam)
    return number, wk


def _class(w, n, category="welding", hours=108):
    """n workers trained together (one class: far quicker to record than n classes) and passed."""
    numbers = [f.id_number() for _ in range(n)]
    workers = [f.worker(w.body, number) for number in numbers]
    f.train(w.body, w.trainer["id"], [x["id"] for x in workers], category=category, hours=hours, start_days_ago=40)
    for x in workers:
        f.exam(w.centre, x["id"], f.days_ago(5), category=category)
    return numbers


def _caller(org_id):
    return Caller("cli", org_id, "training_body", "", None, None)


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_group_gives_every_outcome_in_the_rows_order(client):
    w = f.World(client, categories=("welding", "confined_space"))
    ready, wk = _ready(w)
    ready2, _ = _ready(w, "confined_space", 24)
    short, _ = _ready(w, hours=20)
    unregistered = f.id_number()
    elsewhere, _ = _ready(w)
    other = f.org(w.reg, "training_body", "第二培训学校")
    f.accredit(w.reg, other, ["welding"])
    assert batch.issue_group([{"id_number": elsewhere, "category": "welding"}], _caller(other.id))[0][1] == "issued"
    rows = [{"id_number": ready, "category": "welding"},
            {"id_number": "123", "category": "welding"},
            {"id_number": ready, "category": "welding"},            # the same worker again, same group
            {"id_number": short, "category": "welding"},
            {"id_number": unregistered, "category": "welding"},
            {"id_number": ready, "category": "no_such_category"},
            {"id_number": ready, "category": "electrician_low_voltage"},  # not accredited for it
            {"id_number": elsewhere, "category": "welding"},        # held from the other body
            {"id_number": ready2, "category": "confined_space"}]
    out = batch.issue_group(rows, _caller(w.body.id))
    assert [o[1] for o in out] == ["issued", "refused", "already_issued", "refused", "refused", "refused",
                                   "refused", "refused", "issued"]
    assert out[2][2] == out[0][2] and out[0][2] != out[8][2]
    assert [o[2] for o in out[1:8] if o[1] == "refused"] == [
        "id_number_format", "insufficient_hours exam_before_training", "worker_not_registered", "unknown_category", "Not allowed",
        "Conflict"]
    assert out[0][0] == wk["id_number_masked"] and out[1][0] == ""
    db.session.remove()
    assert _count(Certificate) == 3 and _count(CertificateToken) == 3 and _count(CertificateEvent) == 3
    assert verify_chain()[0]
    again = batch.issue_group(rows[:1], _caller(w.body.id))  # a re-run reports the serial
    assert again == [(wk["id_number_masked"], "already_issued", out[0][2])]


def test_group_stores_what_issuing_one_at_a_time_stores(client):
    """The certificate, its snapshot, token, QR images, event and audit entry, as
    service.issue_certificate writes them; the token verifies and its card's QR reads back."""
    w = f.World(client)
    number, wk = _ready(w)
    ((masked, outcome, serial),) = batch.issue_group([{"id_number": number, "category": "welding"}],
                                                     _caller(w.body.id))
    assert outcome == "issued"
    db.session.remove()
    cert = db.session.get(Certificate, serial)
    expected = snapshot(evidence_for(wk["id"], "welding", cert.issued_at))
    assert json.loads(cert.evidence) == json.loads(json.dumps(expected))
    assert cert.status == "valid" and cert.issuer_id == w.body.id and (cert.open_findings, cert.confirmed_findings) == (0, 0)
    claims = decode(bytes(cert.token)).claims
    assert claims.serial_text == serial and claims.holder_id_masked == masked == wk["id_number_masked"]
    assert read_qr(Image.open(BytesIO(bytes(cert.qr_png)))).text == cert.qr_text
    assert cert.qr_svg.startswith(b"<svg") or b"<svg" in bytes(cert.qr_svg)[:200]
    assert db.session.scalar(select(CertificateToken.serial)) == serial
    assert db.session.scalars(select(CertificateEvent.event).where(CertificateEvent.serial == serial)).all() == ["issued"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.event == "certificate.issued"))
    assert entry.subject == serial and json.loads(entry.detail) == {"signing_kid": bytes(cert.kid).hex()}
    assert verify(client, cert.qr_text)["result"] == "valid"


def test_a_failing_group_leaves_nothing_behind(client, monkeypatch):
    """An error after the writes rolls the whole group back: no certificate, token, event,
    audit entry or counter of it stays, and the chain is whole."""
    w = f.World(client)
    numbers = _class(w, 3)
    entries_before = _count(AuditEntry)
    def counters():
        return {c.key: c.count for c in db.session.scalars(select(RuleCounter))}
    counters_before = counters()

    def broken(*_, **__):
        raise RuntimeError("disk on fire")
    from certificates.signals import certificates_issued
    certificates_issued.connect(broken)
    try:
        with pytest.raises(RuntimeError, match="disk on fire"):
            batch.issue_group([{"id_number": n, "category": "welding"} for n in numbers], _caller(w.body.id))
    finally:
        certificates_issued.disconnect(broken)
    db.session.remove()
    assert (_count(Certificate), _count(CertificateToken), _count(CertificateEvent)) == (0, 0, 0)
    assert _count(AuditEntry) == entries_before and counters() == counters_before and verify_chain()[0]
    out = batch.issue_group([{"id_number": n, "category": "welding"} for n in numbers], _caller(w.body.id))
    assert [o[1] for o in out] == ["issued"] * 3 and _count(Certificate) == 3


def test_group_reads_and_writes_a_handful_of_statements(client):
    """Eight rows: the reads and writes of the group, not of each row (row by row made 13 per
    certificate: 104)."""
    w = f.World(client)
    numbers = _class(w, 8)
    db.session.remove()
    statements = []

    def seen(conn, cursor, statement, *_):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        out = batch.issue_group([{"id_number": n, "category": "welding"} for n in numbers], _caller(w.body.id))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [o[1] for o in out] == ["issued"] * 8
    assert len(statements) <= 18, "\n".join(s[:70].replace("\n", " ") for s in statements)


def test_group_feeds_the_rules_as_issuing_one_at_a_time(client, app, monkeypatch):
    """A finding on a worker's evidence weighs on the certificate issued on it in a group; the
    issuance counter counts every certificate; the spike is weighed after the group."""
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)
    tune(app, monkeypatch, "issuance_spike", min_count=3, ratio=2.0, min_active_weeks=0)
    w = f.World(client, categories=("welding", "confined_space"))
    fast, wk = _ready(w, "confined_space", 24, duration=11)
    (finding,) = found("exam_too_fast")
    assert finding.certificate_serial is None
    numbers = [fast] + _class(w, 3, "confined_space", 24)
    out = batch.issue_group([{"id_number": n, "category": "confined_space"} for n in numbers], _caller(w.body.id))
    assert [o[1] for o in out] == ["issued"] * 4
    assert found("exam_too_fast")[0].certificate_serial == out[0][2]
    assert db.session.get(Certificate, out[0][2]).open_findings == 1
    assert db.session.get(Certificate, out[1][2]).open_findings == 0
    counters = db.session.scalars(select(RuleCounter).where(RuleCounter.key.like(f"iss:{w.body.id}:%"))).all()
    assert sum(c.count for c in counters) == 4
    (spike,) = found("issuance_spike")
    assert '"current": 4' in spike.evidence


def test_groups_of_one_worker_across_transactions(client):
    """Rows split over groups: the second group sees the first's certificates."""
    from certificates.cli import issue_rows
    w = f.World(client)
    numbers = _class(w, 3)
    rows = [{"id_number": n, "category": "welding"} for n in numbers + numbers]
    reported = []
    results = issue_rows(rows, _caller(w.body.id), 1, reported.append, group=2)
    assert [r[2] for r in results] == ["issued"] * 3 + ["already_issued"] * 3
    assert [r[3] for r in results[:3]] == [r[3] for r in results[3:]]
    assert sorted(r[0] for r in reported) == list(range(6))
    db.session.remove()
    assert _count(Certificate) == 3 and _count(Worker) == 3
