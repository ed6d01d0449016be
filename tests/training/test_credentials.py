"""Credentials held from outside this service (training/evidence/credentials.py), over HTTP and as services,
on SQLite and PostgreSQL: who records, reads and voids; the national licence's number checked
against the worker and kept masked only; a skill certificate's number that is an identity number
refused; the record that counts, and the skill certificates for the evidence code in one read."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from tests import factories as f
from tests.verify.test_oracle import candidates
from training.db import db, utcnow
from training.db.models import AuditEntry, IdempotencyRecord
from training.evidence.credentials import current_credential
from training.evidence.hours import waivers_of
from training.evidence.models import Credential
from training.parties.models import Organization

KINDS = ("regulator", "training_body", "exam_centre", "enterprise", "labour_agency", "subcontractor",
         "inspectorate")
RECORDERS = {"regulator", "exam_centre"}
READERS = {"regulator", "inspectorate", "exam_centre", "training_body"}
SKILL_NUMBER = "S000044030004193000012"  # the national layout: a letter and 21 digits


def today() -> date:
    return datetime.now(f.CST).date()


class Desk:
    """A regulator and one organisation of every kind (two exam centres), and a worker whose
    identity number the test knows."""

    def __init__(self, client):
        self.reg = f.regulator(client)
        self.by_kind = {"regulator": self.reg}
        for kind in KINDS[1:]:
            self.by_kind[kind] = f.org(self.reg, kind, f"{kind}-单位")
        self.centre, self.body = self.by_kind["exam_centre"], self.by_kind["training_body"]
        self.other_centre = f.org(self.reg, "exam_centre", "另一考试中心")
        self.number = f.id_number()
        self.worker = f.worker(self.body, self.number)

    def path(self, *rest) -> str:
        return "/".join([f"/api/v1/workers/{self.worker['id']}/credentials", *rest])


def licence(number: str, typed: str | None = None, **extra) -> dict:
    """A national licence for the holder of ``number`` (``typed``: the number field as typed instead)."""
    return {"kind": "national_licence", "category": "welding", "number": "T" + number if typed is None else typed,
            "authority": "河南省应急管理厅", "issued_on": str(today() - timedelta(days=400)),
            "valid_until": str(today() + timedelta(days=1800)), **extra}


def skill(number: str = SKILL_NUMBER, **extra) -> dict:
    return {"kind": "skill_certificate", "category": "welding", "number": number, "level": "四级",
            "authority": "河南省职业技能鉴定中心", "issued_on": str(today() - timedelta(days=30)), **extra}


def error_codes(r) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in r.get_json().get("errors") or []]


def credentials() -> list[Credential]:
    return db.session.scalars(select(Credential)).all()


def credential_entries() -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.event.like("credential.%"))
                              .order_by(AuditEntry.seq)).all()


# --- recording ---------------------------------------------------------------------------------


def test_credentials_only_exam_centres_and_regulators_record(client):
    d = Desk(client)
    for kind in KINDS:
        r = d.by_kind[kind].post(d.path(), skill(f"ZJ-{kind[:4]}"))
        if kind in RECORDERS:
            assert r.status_code == 201, (kind, r.get_json())
            org = db.session.get(Organization, d.by_kind[kind].id)
            assert r.get_json()["recorded_by"] == {"id": org.id, "name": org.name}
        else:
            assert r.status_code == 403, (kind, r.get_json())
    assert len(credentials()) == len(RECORDERS) == len(credential_entries())
    assert client.post(d.path(), json=skill()).status_code == 401


def test_credentials_skill_certificate_recorded_with_every_field(client):
    d = Desk(client)
    body = skill(valid_until=str(today() + timedelta(days=3650)))
    r = d.centre.post(d.path(), body)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert {k: out[k] for k in ("worker_id", "kind", "category", "number", "state", "authority", "level",
                                "issued_on", "valid_until", "checked_on", "voided_at", "void_reason")} == {
        "worker_id": d.worker["id"], "kind": "skill_certificate", "category": "welding", "number": SKILL_NUMBER,
        "state": "valid", "authority": body["authority"], "level": "四级", "issued_on": body["issued_on"],
        "valid_until": body["valid_until"], "checked_on": str(today()), "voided_at": None, "void_reason": None}
    assert out["id"] and out["created_at"].endswith("+00:00")
    (entry,) = credential_entries()
    assert entry.event == "credential.recorded" and entry.subject == out["id"] and entry.actor_org == d.centre.id


def test_credentials_refuse_what_the_rules_do_not_allow_and_write_nothing(client):
    d = Desk(client)
    later = str(today() + timedelta(days=1))
    cases = [
        (skill(category="no_such_trade"), ("category", "not_allowed")),
        (skill(number="ZJ 001/2"), ("number", "invalid")),
        (skill(number="X" * 41), ("number", "length")),
        (skill(issued_on=later), ("issued_on", "in_future")),
        (skill(checked_on=later), ("checked_on", "in_future")),
        (skill(valid_until=str(today() - timedelta(days=31))), ("valid_until", "range")),
        (skill(level="一" * 21), ("level", "length")),
        (skill(state="lost"), ("state", "not_allowed")),
        (skill(authority=""), ("authority", "length")),
        ({**skill(), "holder_id_number": d.number}, ("holder_id_number", "unknown_field")),
        (licence(d.number, level="四级"), ("level", "not_allowed")),
    ]
    for body, expected in cases:
        r = d.centre.post(d.path(), body)
        assert r.status_code == 422 and expected in error_codes(r), (body, r.get_json())
        assert d.number not in r.get_data(as_text=True)
    assert d.centre.post("/api/v1/workers/0123456789abcdef/credentials", skill()).status_code == 404
    assert d.centre.post(d.path(), data="{", content_type="application/json").status_code == 400
    assert credentials() == [] and credential_entries() == []


def test_credentials_skill_number_holding_an_identity_number_is_refused(client):
    d = Desk(client)
    other = f.id_number()
    for number in (d.number, d.number.lower(), other, f"ZY-{other}", f"{other[:6]}-{other[6:14]}-{other[14:]}"):
        r = d.centre.post(d.path(), skill(number))
        assert r.status_code == 422 and error_codes(r) == [("number", "number_is_identity")], number
        assert d.number not in r.get_data(as_text=True) and other not in r.get_data(as_text=True)
    assert credentials() == []
    # The shape alone is not an identity number: a real skill certificate's number holds 21 digits.
    broken = other[:17] + ("0" if other[17] != "0" else "1")
    for number in (SKILL_NUMBER, "Y000123230001195000001", broken):
        assert d.centre.post(d.path(), skill(number)).status_code == 201, number


def test_credentials_licence_number_is_kept_masked_and_the_full_number_is_nowhere(client):
    d = Desk(client)
    masked = d.worker["id_number_masked"]
    spaced = "t " + " ".join(d.number[i:i + 6] for i in range(0, 18, 6)).lower()  # as typed by hand
    r = d.reg.post(d.path(), licence("", typed=spaced), {"Idempotency-Key": "licence-1"})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["number"] == "T" + masked and out["kind"] == "national_licence" and out["level"] is None
    listed = d.body.get(d.path())
    responses = [r, listed, d.reg.post(d.path(), licence("", typed=spaced), {"Idempotency-Key": "licence-1"})]
    assert responses[2].get_json() == out  # a replay answers the same record
    for resp in responses:
        assert d.number not in resp.get_data(as_text=True) and d.number[6:14] not in resp.get_data(as_text=True)
    (row,) = credentials()
    assert row.number == "T" + masked
    assert not any(d.number in str(getattr(row, c.key)) for c in Credential.__table__.c)
    entries = db.session.scalars(select(AuditEntry)).all()
    assert credential_entries() and not any(d.number in (e.detail + str(e.subject)) for e in entries)
    assert not any(d.number in rec.body for rec in db.session.scalars(select(IdempotencyRecord)))


def test_credentials_licence_number_not_the_workers_is_refused_and_nothing_written(client):
    d = Desk(client)
    stranger = f.id_number()
    near = candidates(d.number, 1)[0]  # the same masked form, another birth date
    broken = d.number[:17] + ("0" if d.number[17] != "0" else "1")
    for number, code in ((stranger, "licence_number_mismatch"), (near, "licence_number_mismatch"),
                         (broken, "licence_number_format")):
        r = d.centre.post(d.path(), licence(number))
        assert r.status_code == 422 and error_codes(r) == [("number", code)], r.get_json()
        text = r.get_data(as_text=True)
        assert number not in text and d.number not in text
    r = d.centre.post(d.path(), licence("", typed=d.number))  # without the T
    assert error_codes(r) == [("number", "licence_number_format")]
    assert credentials() == [] and credential_entries() == []


def test_credentials_licence_guesses_are_counted_as_lookups_by_number(client, app, monkeypatch):
    """A yes or no on a guessed licence number would tell the worker's full identity number from
    their masked one in a thousand tries: each guess is counted as a lookup of that person."""
    monkeypatch.setitem(app.config, "RATE_LIMIT_ID_LOOKUP_PERSON", "4/day")
    d = Desk(client)  # registering the worker counted once
    tried = [d.centre.post(d.path(), licence(n)).status_code for n in candidates(d.number, 3)]
    assert tried == [422, 422, 422]
    r = d.centre.post(d.path(), licence(d.number))
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert credentials() == []


# --- reading and voiding -------------------------------------------------------------------------


def test_credentials_list_for_readers_newest_first_voided_marked(client):
    d = Desk(client)
    first = d.centre.post(d.path(), skill("ZJ-1")).get_json()
    second = d.reg.post(d.path(), licence(d.number, state="revoked")).get_json()
    assert d.centre.post(d.path(first["id"], "void"), {"reason": "录错了证书"}).status_code == 200
    for kind in KINDS:
        r = d.by_kind[kind].get(d.path())
        if kind not in READERS:
            assert r.status_code == 403, kind
            continue
        assert r.status_code == 200, kind
        items = r.get_json()["items"]
        assert [i["id"] for i in items] == [second["id"], first["id"]]
        assert items[1]["voided_at"] and items[1]["void_reason"] == "录错了证书" and items[0]["voided_at"] is None
    assert d.reg.get("/api/v1/workers/0123456789abcdef/credentials").status_code == 404
    assert d.reg.get(d.path() + "?limit=1").get_json()["next_cursor"]


def test_credentials_void_by_the_recorder_or_a_regulator_only(client):
    d = Desk(client)
    mine = d.centre.post(d.path(), skill("ZJ-1")).get_json()
    theirs = d.other_centre.post(d.path(), skill("ZJ-2")).get_json()
    reason = {"reason": "证书编号录入错误"}
    for kind in KINDS:
        if kind not in RECORDERS:
            assert d.by_kind[kind].post(d.path(mine["id"], "void"), reason).status_code == 403, kind
    assert d.other_centre.post(d.path(mine["id"], "void"), reason).status_code == 403
    assert d.centre.post(d.path(mine["id"], "void"), {}).status_code == 422
    r = d.centre.post(d.path(mine["id"], "void"), reason)
    assert r.status_code == 200 and r.get_json()["void_reason"] == reason["reason"] and r.get_json()["voided_at"]
    assert d.centre.post(d.path(mine["id"], "void"), reason).status_code == 409
    assert d.reg.post(d.path(theirs["id"], "void"), reason).status_code == 200
    assert d.reg.post(d.path(theirs["id"], "void"), reason).status_code == 409
    other = f.worker(d.body)
    assert d.reg.post(f"/api/v1/workers/{other['id']}/credentials/{mine['id']}/void", reason).status_code == 404
    assert d.reg.post(d.path("0123456789abcdef", "void"), reason).status_code == 404
    voided = [e for e in credential_entries() if e.event == "credential.voided"]
    assert [(e.subject, e.actor_org) for e in voided] == [(mine["id"], d.centre.id), (theirs["id"], d.reg.id)]
    assert all(c.voided_at is not None for c in credentials())


# --- the record that counts ----------------------------------------------------------------------


def _row(worker_id, org_id, kind="national_licence", category="welding", state="valid", created_at=None, **extra):
    cred = Credential(worker_id=worker_id, kind=kind, category=category, number=extra.pop("number", "T-masked"),
                      state=state, authority="某发证机关", issued_on=extra.pop("issued_on", date(2024, 1, 1)),
                      checked_on=date(2025, 1, 1), recorded_by=org_id, created_at=created_at or utcnow(), **extra)
    db.session.add(cred)
    db.session.flush()
    return cred


def test_credentials_current_is_the_latest_non_void_of_its_kind_and_category(client):
    d = Desk(client)
    wid, now = d.worker["id"], utcnow()
    assert current_credential(wid, "national_licence", "welding", today()) is None
    old = _row(wid, d.reg.id, created_at=now - timedelta(days=10))
    new = _row(wid, d.reg.id, state="revoked", created_at=now - timedelta(days=2))
    _row(wid, d.reg.id, category="electrician_low_voltage", created_at=now - timedelta(days=1))
    _row(wid, d.reg.id, kind="skill_certificate", created_at=now - timedelta(days=1))
    db.session.commit()
    assert current_credential(wid, "national_licence", "welding", today()).id == new.id
    assert current_credential(wid, "national_licence", "welding", today() - timedelta(days=5)).id == old.id
    assert current_credential(wid, "national_licence", "welding", today() - timedelta(days=20)) is None
    new.voided_at = utcnow()
    db.session.commit()
    assert current_credential(wid, "national_licence", "welding", today()).id == old.id
    # As it stood on a day before the void, the voided record still counted.
    assert current_credential(wid, "national_licence", "welding", today() - timedelta(days=1)).id == new.id


def test_credentials_waivers_of_reads_many_workers_once_latest_valid_skill_certificates(client):
    d = Desk(client)
    a, b, c = d.worker["id"], f.worker(d.body)["id"], f.worker(d.body)["id"]
    now = utcnow()
    kept = _row(a, d.centre.id, kind="skill_certificate", number="S1", created_at=now - timedelta(days=3),
                valid_until=date(2030, 1, 1))
    _row(a, d.centre.id, kind="skill_certificate", category="confined_space", number="S2",
         created_at=now - timedelta(days=3))
    voided = _row(a, d.centre.id, kind="skill_certificate", category="confined_space", number="S3",
                  created_at=now - timedelta(days=1), voided_at=now)
    _row(a, d.centre.id, kind="national_licence", category="electrician_low_voltage")  # not a skill certificate
    _row(b, d.centre.id, kind="skill_certificate", number="S4", created_at=now - timedelta(days=3))
    _row(b, d.centre.id, kind="skill_certificate", number="S4", state="revoked", created_at=now - timedelta(days=1))
    _row(c, d.centre.id, kind="skill_certificate", number="S5", state="suspended")
    db.session.commit()
    statements = []
    def listener(*args):
        statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        got = waivers_of([a, b, c, a])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    reads = [s for s in statements if not s.upper().startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
    assert len(reads) == 1 and "FROM credentials" in reads[0]
    assert set(got) == {(a, "welding"), (a, "confined_space")}
    (row,) = got[(a, "welding")]
    assert (row.id, row.worker_id, row.category, row.issued_on, row.valid_until) == (
        kept.id, a, "welding", date(2024, 1, 1), date(2030, 1, 1))
    assert got[(a, "confined_space")][0].id != voided.id  # the void one does not count, the one before does
    assert waivers_of([]) == {}
    assert db.session.scalar(select(func.count()).select_from(Credential)) == 7


@pytest.mark.parametrize("endpoint", ["training.create_credential", "training.void_credential"])
def test_credentials_writes_are_named_for_peoples_keys(endpoint):
    from training.accounts.roles import API_ACTIONS
    assert API_ACTIONS[endpoint] == "records"
