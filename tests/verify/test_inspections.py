"""On-site inspections: a verdict per person checked, the findings they raise, the record and its
PDF, and who may see them."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.certificates.test_issuance import issue
from tests.verify.test_rules import found, parties
from tests.verify.test_rules_certificates import ZHENGZHOU, officer_for, site
from training.db import db
from verify.inspections.models import Inspection


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def scene(client):
    w = f.World(client)
    numbers = {k: f.id_number() for k in "abc"}
    a = f.worker(w.body, numbers["a"])
    b = f.worker(w.body, numbers["b"])
    f.train(w.body, w.trainer["id"], [a["id"]], "confined_space", hours=24, start_days_ago=30)
    f.exam(w.centre, a["id"], f.days_ago(5), category="confined_space")
    cert = issue(w, a, "confined_space").get_json()
    ent = f.org(w.reg, "enterprise", "某化工公司", industry="hazardous_chemicals")
    return w, numbers, a, b, cert, ent, site(ent, "一号储罐区", ZHENGZHOU), officer_for(w)


def inspect(officer, site_id, checks, **extra):
    return officer.post("/api/v1/inspections", {"site_id": site_id, "started_at": f.ts(f.hours_ago(1)),
                                                "checks": checks, **extra})


def test_inspection_verdict_per_check_and_findings(client):
    w, n, a, b, cert, ent, place, officer = scene(client)
    r = inspect(officer, place["id"], [
        {"qr_text": cert["qr_text"], "id_number": n["a"], "task_role": "confined_space_worker", "holder_matches": True},
        {"id_number": n["b"], "task_role": "welder"},
        {"qr_text": cert["qr_text"], "id_number": n["b"], "task_role": "confined_space_worker"},
        {"qr_text": cert["qr_text"], "task_role": "confined_space_worker", "holder_matches": False},
        {"id_number": n["c"], "task_role": "general_labourer"},
    ], officers=[{"name": "王强", "badge": "豫A2048"}])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    verdicts = [(c["verdict"], [x["code"] for x in c["reasons"]]) for c in body["checks"]]
    assert verdicts == [("cleared", []), ("not_cleared", ["missing_certificate"]),
                        ("not_cleared", ["missing_certificate", "holder_mismatch"]),
                        ("not_cleared", ["missing_certificate", "holder_mismatch", "card_suspect"]),
                        ("cleared", ["person_not_registered"])]
    assert body["summary"] == {"checked": 5, "cleared": 2, "not_cleared": 3}
    assert body["officers"] == [{"name": "李明", "badge": "豫A1024"}, {"name": "王强", "badge": "豫A2048"}]
    assert body["checks"][1]["worker"]["id_number_masked"] == b["id_number_masked"]
    text = r.get_data(as_text=True)
    assert all(number not in text for number in n.values())
    no_cert = found("no_certificate_on_duty")
    assert len(no_cert) == 3 and {x.worker_id for x in no_cert} == {b["id"], None}
    assert all(("employer", ent.id) in parties(x) for x in no_cert)
    mismatch = found("holder_mismatch")
    assert len(mismatch) == 2 and {x.certificate_serial for x in mismatch} == {cert["serial"]}
    assert body["checks"][3]["card_result"] == "suspect"  # the card now has open findings
    again = officer.get(f"/api/v1/inspections/{body['id']}").get_json()
    assert again["checks"] == body["checks"]


def test_inspection_pdf_names_officers_and_masks_numbers(client):
    from pypdf import PdfReader
    w, n, a, b, cert, ent, place, officer = scene(client)
    made = inspect(officer, place["id"], [{"id_number": n["b"], "task_role": "welder"}],
                   officers=[{"name": "王强", "badge": "豫A2048"}]).get_json()
    r = officer.get(f"/api/v1/inspections/{made['id']}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    for words in ("豫A1024", "豫A2048", "李明", "王强", b["id_number_masked"], "一号储罐区"):
        assert words in text, words
    assert n["b"] not in text and n["b"].encode() not in r.data
    assert w.reg.get(f"/api/v1/inspections/{made['id']}.pdf").status_code == 200


def test_inspection_only_inspectorates_record_and_read_theirs_and_refusals_change_nothing(client):
    w, n, a, b, cert, ent, place, officer = scene(client)
    check = [{"id_number": n["b"], "task_role": "welder"}]
    assert inspect(ent, place["id"], check).status_code == 403
    assert inspect(w.body, place["id"], check).status_code == 403
    other = officer_for(w)
    made = inspect(officer, place["id"], check).get_json()
    assert other.get(f"/api/v1/inspections/{made['id']}").status_code == 404
    assert ent.get(f"/api/v1/inspections/{made['id']}").status_code == 403
    assert [i["id"] for i in officer.get("/api/v1/inspections").get_json()["items"]] == [made["id"]]
    assert other.get("/api/v1/inspections").get_json()["items"] == []
    before, count = len(found()), db.session.scalar(select(func.count()).select_from(Inspection))
    assert inspect(officer, "nosuchsite", [{"id_number": n["b"], "task_role": "welder"}]).status_code == 422
    assert inspect(officer, place["id"], [{"task_role": "welder"}]).status_code == 422
    assert inspect(officer, place["id"], [{"id_number": "410101199001011234", "task_role": "welder"}]).status_code == 422
    assert inspect(officer, place["id"], [{"id_number": n["b"], "task_role": "pilot"}]).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Inspection)) == count and len(found()) == before
