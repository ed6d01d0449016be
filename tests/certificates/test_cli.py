"""Commands of the certificates layer: batch issuance from CSV and XLSX, key rotation; and an
issued token checked end to end by an independent COSE implementation."""
from __future__ import annotations

import csv
import time

from openpyxl import Workbook
from pycose.keys import OKPKey
from pycose.messages import Sign1Message
from sqlalchemy import func, select

from certificates.issuance import queries
from certificates.models import Certificate
from certificates.token import b64url_decode, decode
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import db
from training.people.identity import mask_id_number
from training.people.models import Worker


def _ready_numbers(w, n):
    numbers = []
    for _ in range(n):
        number = f.id_number()
        wk = f.worker(w.body, number)
        f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
        f.exam(w.centre, wk["id"], f.days_ago(5))
        numbers.append(number)
    return numbers


def _results(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_issue_batch_csv_results_and_safe_rerun(client, runner, tmp_path):
    w = f.World(client)
    ready = _ready_numbers(w, 2)
    unready = f.id_number()
    f.worker(w.body, unready)
    rows = tmp_path / "class.csv"
    rows.write_text("id_number,category\n" + "".join(f"{n},welding\n" for n in ready + [unready])
                    + "123,welding\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    r = runner.invoke(args=["issue-batch", str(rows), "--body", w.body.id, "--out", str(out)])
    assert r.exit_code == 0, r.output
    results = _results(out)
    assert [x["outcome"] for x in results] == ["issued", "issued", "refused", "refused"]
    assert "insufficient_hours" in results[2]["serial_or_reasons"] and results[3]["serial_or_reasons"] == "id_number_format"
    assert all(n not in out.read_text() for n in ready + [unready])  # masked only
    again = runner.invoke(args=["issue-batch", str(rows), "--body", w.body.id, "--out", str(out)])
    assert again.exit_code == 0
    assert [x["outcome"] for x in _results(out)][:2] == ["already_issued", "already_issued"]
    assert [x["serial_or_reasons"] for x in _results(out)][:2] == [x["serial_or_reasons"] for x in results[:2]]
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2


def test_issue_batch_xlsx(client, runner, tmp_path):
    w = f.World(client)
    ready = _ready_numbers(w, 1)
    book = Workbook()
    book.active.append(["ID_Number", "Category"])
    book.active.append([ready[0], "welding"])
    path = tmp_path / "class.xlsx"
    book.save(path)
    r = runner.invoke(args=["issue-batch", str(path), "--body", w.body.id])
    assert r.exit_code == 0, r.output
    assert "1 issued" in r.output


def test_issue_batch_refuses_unknown_body_and_bad_header(client, runner, tmp_path):
    w = f.World(client)
    path = tmp_path / "x.csv"
    path.write_text("name,category\n张三,welding\n", encoding="utf-8")
    r = runner.invoke(args=["issue-batch", str(path), "--body", "nope"])
    assert r.exit_code != 0 and "not a registered training body" in r.output
    r = runner.invoke(args=["issue-batch", str(path), "--body", w.body.id])
    assert r.exit_code != 0 and "id_number and category" in r.output


def test_rotate_key_old_certificates_still_verify(client, runner):
    w = f.World(client)
    old = issue(w, ready_worker(w)).get_json()
    r = runner.invoke(args=["rotate-key", "--org", w.body.id])
    assert r.exit_code == 0, r.output
    new = issue(w, ready_worker(w)).get_json()
    assert decode(b64url_decode(old["token"])).kid != decode(b64url_decode(new["token"])).kid
    keys = {k["kid"]: k["status"] for k in client.get("/api/v1/trust-list").get_json()["keys"]}
    assert sorted(keys.values()) == ["active", "retired"]
    for cert in (old, new):
        assert client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]}).get_json()["result"] == "valid"


def test_pycose_verifies_an_issued_token_with_the_trust_list_key(client):
    w = f.World(client)
    cert = issue(w, ready_worker(w)).get_json()
    raw = b64url_decode(cert["token"])
    kid = decode(raw).kid
    entry = next(k for k in client.get("/api/v1/trust-list").get_json()["keys"] if b64url_decode(k["kid"]) == kid)
    message = Sign1Message.decode(raw)
    message.key = OKPKey(crv="Ed25519", x=b64url_decode(entry["x"]))
    assert message.verify_signature()
    tampered = raw.replace(b"410", b"411", 1) if b"410" in raw else raw[:-1] + bytes([raw[-1] ^ 1])
    bad = Sign1Message.decode(tampered)
    bad.key = message.key
    assert tampered != raw and not bad.verify_signature()


def test_issuing_one_row_stores_the_certificate_its_token_event_and_audit_entry(client):
    from certificates.issuance.batch import issue_group
    from certificates.models import CertificateEvent, CertificateToken
    from training.accounts.api_keys import Caller
    from training.db.models import AuditEntry
    w = f.World(client)
    number = _ready_numbers(w, 1)[0]
    caller = Caller("cli", w.body.id, "training_body", "", None, None)
    ((masked, outcome, serial),) = issue_group([{"id_number": number, "category": "welding"}], caller)
    assert outcome == "issued" and masked.count("*") == 8
    db.session.remove()
    cert = db.session.get(Certificate, serial)
    assert cert.issuer_id == w.body.id and cert.status == "valid" and cert.open_findings == 0
    assert decode(bytes(cert.token)).claims.serial_text == serial
    assert db.session.scalar(select(CertificateToken.serial)) == serial
    assert db.session.scalars(select(CertificateEvent.event).where(CertificateEvent.serial == serial)).all() == ["issued"]
    assert db.session.scalar(select(AuditEntry.subject).where(AuditEntry.event == "certificate.issued")) == serial
    assert issue_group([{"id_number": number, "category": "welding"}], caller) == [(masked, "already_issued", serial)]


def test_a_row_for_a_certificate_another_body_issued_is_a_conflict(client):
    from certificates.issuance.batch import issue_group
    from training.accounts.api_keys import Caller
    w = f.World(client)
    number = _ready_numbers(w, 1)[0]
    other = f.org(w.reg, "training_body", "第二培训学校")
    f.accredit(w.reg, other, ["welding"])
    row = {"id_number": number, "category": "welding"}
    (first,) = issue_group([row], Caller("cli", w.body.id, "training_body", "", None, None))
    (again,) = issue_group([row], Caller("cli", other.id, "training_body", "", None, None))
    assert first[1] == "issued" and again[1:] == ("refused", "Conflict")
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_held_serial_reads_the_held_certificate_of_the_category(client):
    from flask import current_app
    w = f.World(client)
    number = _ready_numbers(w, 1)[0]
    id_hash = current_app.extensions["identity"].lookup_hash(number)
    worker = db.session.scalar(select(Worker).where(Worker.id_hash == id_hash))
    assert queries.held_serial(worker.id, "welding") is None
    serial = issue(w, {"id": worker.id}).get_json()["serial"]
    assert tuple(queries.held_serial(worker.id, "welding")) == (serial, w.body.id)
    assert queries.held_serial(worker.id, "electrician_low_voltage") is None


def test_issue_batch_with_parallel_issuers(client, runner, tmp_path):
    """Several issuers at once: every row once, a worker's two rows one after the other (one
    issued, one already issued), the result file in the rows' order, the audit chain whole."""
    from training.db.audit import verify_chain
    w = f.World(client)
    ready = _ready_numbers(w, 6)
    rows = ready + [ready[0], ready[3], "123"]
    path = tmp_path / "class.csv"
    path.write_text("id_number,category\n" + "".join(f"{n},welding\n" for n in rows), encoding="utf-8")
    out = tmp_path / "out.csv"
    r = runner.invoke(args=["issue-batch", str(path), "--body", w.body.id, "--out", str(out), "--jobs", "3"])
    assert r.exit_code == 0, r.output
    results = _results(out)
    assert [int(x["row"]) for x in results] == list(range(2, 2 + len(rows)))
    assert [x["outcome"] for x in results[:6]] == ["issued"] * 6
    assert sorted(x["outcome"] for x in results[6:8]) == ["already_issued", "already_issued"]
    assert {x["serial_or_reasons"] for x in results[6:8]} == {results[0]["serial_or_reasons"],
                                                              results[3]["serial_or_reasons"]}
    assert results[8]["outcome"] == "refused"
    assert "6 issued" in r.output and "2 already_issued" in r.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 6
    assert verify_chain()[0]


def test_issue_rows_stops_on_an_unexpected_error_and_keeps_what_it_reported(client, monkeypatch):
    """An error no row should meet stops every issuer and reaches the caller; each reported row
    is committed, the failing row's group left nothing behind."""
    import pytest

    from certificates import cli
    from certificates.issuance import batch
    from certificates.models import CertificateEvent, CertificateToken
    from training.accounts.api_keys import Caller
    from training.db.audit import verify_chain
    w = f.World(client)
    ready = _ready_numbers(w, 6)
    broken = mask_id_number(ready[2])
    real = batch.claims

    def failing(serial, issuer_id, category, worker, *args):
        if worker.id_masked == broken:
            raise RuntimeError("disk on fire")
        return real(serial, issuer_id, category, worker, *args)
    monkeypatch.setattr(batch, "claims", failing)
    reported = []
    caller = Caller("cli", w.body.id, "training_body", "", None, None)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli.issue_rows([{"id_number": n, "category": "welding"} for n in ready], caller, 2, reported.append, group=2)
    db.session.remove()
    stored = set(db.session.scalars(select(Certificate.serial)))
    assert {r[3] for r in reported if r[2] == "issued"} == stored
    assert broken not in {r[1] for r in reported}
    rows = [{"id_number": n, "category": "welding"} for n in ready]
    shard = [i for i, row in enumerate(rows) if cli._shard(row, 2) == cli._shard(rows[2], 2)]
    at = shard.index(2) // 2 * 2
    mates = {mask_id_number(ready[i]) for i in shard[at:at + 2]}  # the failing row's group of two
    held = set(db.session.scalars(select(Worker.id_masked).join(Certificate, Certificate.worker_id == Worker.id)))
    assert len(stored) < 6 and not held & mates
    assert set(db.session.scalars(select(CertificateToken.serial))) == stored
    assert set(db.session.scalars(select(CertificateEvent.serial))) == stored
    assert verify_chain()[0]


def test_compromise_key_takes_a_kid_that_begins_with_a_dash(client, runner):
    """One kid in 64 begins with "-" (base64url): it is the KID, not an option."""
    f.World(client)
    r = runner.invoke(args=["compromise-key", "-oAAAAAAAAA"])
    assert r.exit_code == 2 and "No signing key with this kid." in r.output, r.output
    assert runner.invoke(args=["compromise-key", "--help"]).exit_code == 0


def test_issue_rows_stop_when_the_report_cannot_be_written(client):
    """If a result cannot be written, the issuers stop too: every issued row was reported but
    the one whose report failed, and issuing does not run on unreported."""
    import pytest

    from certificates import cli
    from training.accounts.api_keys import Caller
    w = f.World(client)
    ready = _ready_numbers(w, 6)
    reported = []

    def report(result):
        if reported:
            raise OSError("disk full")
        reported.append(result)
    caller = Caller("cli", w.body.id, "training_body", "", None, None)
    with pytest.raises(OSError, match="disk full"):
        cli.issue_rows([{"id_number": n, "category": "welding"} for n in ready], caller, 2, report, group=1)
    time.sleep(1)  # an issuer left running would finish the class meanwhile
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) < 6
