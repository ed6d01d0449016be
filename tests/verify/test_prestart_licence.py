"""Pre-start checks and the national licence (特种作业操作证) recorded as evidence
(training/evidence/credentials.py), on SQLite and PostgreSQL: shown as recorded, masked; a suspended,
revoked or expired one blocks, in words that leave the national platform the authority; none
recorded is normal; the employer's answer page shows the line."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import factories as f
from tests.console.test_employer_pages import CONFINED, Desk, post, text
from tests.verify.test_prestart import (  # noqa: F401  (quiet_rules: a fixture)
    Scene,
    check,
    codes,
    induct,
    place,
    quiet_rules,
    today,
)
from training.catalogue import load_catalogue
from training.db import db, utcnow
from training.evidence.models import Credential

ROLE, CATEGORY = "confined_space_worker", "confined_space"


def ready(s: Scene, number: str) -> dict:
    """A worker with the given identity number, certified for the role, placed with the host and inducted."""
    wk = f.worker(s.w.body, number)
    f.train(s.w.body, s.w.trainer["id"], [wk["id"]], category=CATEGORY,
            hours=load_catalogue().category(CATEGORY).initial_hours, start_days_ago=40)
    f.exam(s.w.centre, wk["id"], f.days_ago(20), category=CATEGORY)
    r = s.w.body.post("/api/v1/certificates", {"worker_id": wk["id"], "category": CATEGORY})
    assert r.status_code == 201, r.get_json()
    place(s.host, wk["id"], s.host.id, ROLE)
    induct(s.host, [wk["id"]])
    return wk


def record(wk: dict, org_id: str, state: str = "valid", category: str = CATEGORY, ago_days: float = 0,
           checked_on: date | None = None) -> Credential:
    """A national licence as a regulator recorded it (written directly: HTTP is tested elsewhere)."""
    cred = Credential(worker_id=wk["id"], kind="national_licence", category=category,
                      number="T" + wk["id_number_masked"], state=state, authority="河南省应急管理厅",
                      issued_on=date(2022, 3, 1), valid_until=date(2028, 3, 1),
                      checked_on=checked_on or today() - timedelta(days=2), recorded_by=org_id,
                      created_at=utcnow() - timedelta(days=ago_days))
    db.session.add(cred)
    db.session.commit()
    return cred


def test_prestart_licence_none_recorded_is_normal(client):
    s = Scene(client)
    a = check(s.host, ready(s, f.id_number())["id"], ROLE)
    assert a["cleared"] and a["licences"] == [] and a["reasons"] == []


def test_prestart_licence_valid_is_shown_masked_and_does_not_block(client):
    s = Scene(client)
    number = f.id_number()
    wk = ready(s, number)
    cred = record(wk, s.w.reg.id)
    record(wk, s.w.reg.id, state="revoked", category="welding")  # not a category the role needs
    a = check(s.host, wk["id"], ROLE)
    assert a["cleared"] and a["reasons"] == []
    assert a["licences"] == [{"category": CATEGORY, "number": "T" + wk["id_number_masked"], "state": "valid",
                              "checked_on": str(cred.checked_on), "authority": "河南省应急管理厅"}]
    assert number not in str(a)


@pytest.mark.parametrize("state", ["revoked", "suspended", "expired"])
def test_prestart_licence_found_revoked_suspended_or_expired_blocks(client, state):
    s = Scene(client)
    number = f.id_number()
    wk = ready(s, number)
    checked = today() - timedelta(days=3)
    record(wk, s.w.reg.id, state=state, checked_on=checked)
    a = check(s.host, wk["id"], ROLE)
    assert not a["cleared"] and codes(a) == [f"national_licence_{state}"]
    reason = a["reasons"][0]
    assert reason["category"] == CATEGORY and str(checked) in reason["message"]
    assert "国家平台" in reason["message"] and "以国家平台查询结果为准" in reason["message"]
    assert a["licences"][0]["state"] == state and number not in str(a)
    en = client.post("/api/v1/prestart-checks", json={"worker_id": wk["id"], "role": ROLE},
                     headers={"Authorization": f"Bearer {s.host.key}", "Accept-Language": "en"}).get_json()
    message = en["reasons"][0]["message"]
    assert f"found {state} on {checked} per the national platform" in message
    assert "The national platform is authoritative." in message


def test_prestart_licence_the_latest_non_void_record_counts(client):
    s = Scene(client)
    wk = ready(s, f.id_number())
    revoked = record(wk, s.w.reg.id, state="revoked", ago_days=5)
    assert codes(check(s.host, wk["id"], ROLE)) == ["national_licence_revoked"]
    record(wk, s.w.reg.id, state="valid", ago_days=1)  # looked up again: valid once more
    a = check(s.host, wk["id"], ROLE)
    assert a["cleared"] and a["licences"][0]["state"] == "valid"
    wrong = record(wk, s.w.reg.id, state="suspended")
    assert codes(check(s.host, wk["id"], ROLE)) == ["national_licence_suspended"]
    wrong.voided_at, wrong.void_reason = utcnow(), "录错了人"
    db.session.commit()
    assert check(s.host, wk["id"], ROLE)["cleared"]
    assert revoked.voided_at is None  # superseded, not voided: the history stays


def test_prestart_licence_recorded_through_the_api_reaches_the_check(client):
    s = Scene(client)
    number = f.id_number()
    wk = ready(s, number)
    r = s.w.centre.post(f"/api/v1/workers/{wk['id']}/credentials", {
        "kind": "national_licence", "category": CATEGORY, "number": "T" + number, "state": "revoked",
        "authority": "河南省应急管理厅", "issued_on": "2022-03-01"})
    assert r.status_code == 201, r.get_json()
    a = check(s.host, wk["id"], ROLE)
    assert codes(a) == ["national_licence_revoked"] and a["licences"][0]["checked_on"] == str(today())
    assert a["licences"][0]["number"] == "T" + wk["id_number_masked"]


def test_prestart_licence_line_on_the_employers_answer_page(app, client):
    d = Desk(app, client)
    number = f.id_number()
    wk = f.worker(d.host, number)
    place(d.host, wk["id"], d.host.id, CONFINED)
    induct(d.host, [wk["id"]])
    record(wk, d.w.reg.id, state="revoked")
    r = post(d.host_officer, "/console/prestart", {"who": number, "role": CONFINED})
    assert r.status_code == 303
    page = text(d.host_officer.get(r.headers["Location"]))
    assert "全国特种作业操作证（录入信息，以国家平台查询为准）" in page and "T" + wk["id_number_masked"] in page
    assert "以国家平台查询结果为准" in page and number not in page
    page_en = text(d.host_officer.get(r.headers["Location"] + "?lang=en"))
    assert "National licence (as recorded; the national platform is authoritative)" in page_en
    receipt = text(d.host_officer.get(r.headers["Location"] + "/receipt?lang=zh"))  # the printed, signed receipt too
    assert "全国特种作业操作证（录入信息，以国家平台查询为准）" in receipt and "T" + wk["id_number_masked"] in receipt
    assert number not in receipt
