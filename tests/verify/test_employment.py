"""Employment records over HTTP: who may record and end them, who sees them (no organisation sees
another's), refusals that change nothing, and the on-site rule that reads them."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests import factories as f, live_server as live
from tests.conftest import SECRETS, _drop_pg_database, _fresh_pg_database
from tests.verify.test_prestart import (  # noqa: F401  (quiet_rules: a fixture)
    Scene,
    check,
    induct,
    place,
    quiet_rules,
    today,
)
from training.db import db, new_id, utcnow
from training.errors import Conflict
from verify.employment.models import Employment, Notice
from verify.employment.service import insert_open_employment
from verify.findings.models import Finding, FindingParty

API = "/api/v1/employments"


def employments():
    return db.session.scalar(select(func.count()).select_from(Employment))


def ids(api, query=""):
    r = api.get(f"{API}{query}")
    assert r.status_code == 200, r.get_json()
    return [i["id"] for i in r.get_json()["items"]]


def test_employment_agency_records_a_placement_the_host_sees_and_no_one_else(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    e = place(s.agency, wk["id"], s.host.id, "welder", via_id=s.agency.id)
    assert e["employer"]["id"] == s.host.id and e["via"] == {"id": s.agency.id, "name": s.agency.org["name"],
                                                              "kind": "labour_agency"}
    assert e["worker"]["id_number_masked"] == wk["id_number_masked"] and e["active"] and e["ends_on"] is None
    own = place(s.host, f.worker(s.host)["id"], s.host.id, "electrician")
    assert set(ids(s.host)) == {e["id"], own["id"]} and ids(s.agency) == [e["id"]]
    other_host, other_agency = f.org(s.w.reg, "enterprise"), f.org(s.w.reg, "labour_agency")
    sub = f.org(s.w.reg, "subcontractor")
    for outsider in (other_host, other_agency, sub):
        assert ids(outsider) == [] and ids(outsider, f"?worker_id={wk['id']}") == []
        assert outsider.get(f"{API}/{e['id']}").status_code == 404
        assert outsider.patch(f"{API}/{e['id']}", {"ends_on": str(today())}).status_code == 404
    assert s.host.get(f"{API}/{e['id']}").get_json()["id"] == e["id"]
    assert set(ids(s.w.reg)) == {e["id"], own["id"]}  # the regulator oversees all
    assert ids(s.host, f"?worker_id={wk['id']}") == [e["id"]]


def test_employment_only_the_host_or_the_one_in_between_records_it(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    other_agency = f.org(s.w.reg, "labour_agency")
    other_host = f.org(s.w.reg, "enterprise")
    refused = [(other_agency, {"employer_id": s.host.id, "via_id": s.agency.id}),  # someone else's placement
               (s.agency, {"employer_id": s.host.id}),                          # not via itself
               (s.host, {"employer_id": other_host.id})]                        # another host's hire
    for api, extra in refused:
        r = api.post(API, {"worker_id": wk["id"], "role": "welder", "starts_on": str(today()), **extra})
        assert r.status_code == 403, (extra, r.get_json())
    assert employments() == 0
    sub = f.org(s.w.reg, "subcontractor")
    assert place(sub, wk["id"], sub.id, "welder")["employer"]["id"] == sub.id  # its own employee
    assert place(sub, wk["id"], s.host.id, "welder", via_id=sub.id)["via"]["kind"] == "subcontractor"
    assert place(s.host, wk["id"], s.host.id, "scaffolder", via_id=s.agency.id)["via"]["id"] == s.agency.id


def test_employment_refusals_are_422_and_change_nothing(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    foreign_site = f.org(s.w.reg, "enterprise").post(
        "/api/v1/sites", {"name": "别家工地", "latitude": 34.7, "longitude": 113.6}).get_json()
    base = {"worker_id": wk["id"], "employer_id": s.host.id, "via_id": s.agency.id, "role": "welder",
            "starts_on": str(today())}
    cases = [({"worker_id": "0000000000000000"}, "worker_id", "not_found"),
             ({"role": "astronaut"}, "role", "not_allowed"),
             ({"starts_on": "someday"}, "starts_on", "invalid"),
             ({"employer_id": s.w.body.id, "via_id": s.agency.id}, "employer_id", "not_found"),
             ({"site_id": foreign_site["id"]}, "site_id", "not_found"),
             ({"unknown": 1}, "unknown", "unknown_field")]
    for change, field, code in cases:
        r = s.agency.post(API, {**base, **change})
        assert r.status_code == 422, (change, r.get_json())
        assert {"field": field, "code": code} in [{k: e[k] for k in ("field", "code")} for e in r.get_json()["errors"]]
    r = s.agency.post(API, {**base, "via_id": s.agency.id, "employer_id": s.agency.id})
    assert r.status_code == 422
    r = s.host.post(API, {**base, "via_id": f.org(s.w.reg, "enterprise").id})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "via_id"
    assert s.agency.post(API, data="[", content_type="application/json").status_code == 400
    assert employments() == 0


def test_employment_end_duplicate_and_idempotency(client):
    s = Scene(client)
    wk = f.worker(s.host)
    body = {"worker_id": wk["id"], "role": "welder", "starts_on": str(today() - timedelta(days=10))}
    first = s.host.post(API, body, {"Idempotency-Key": "e-1"})
    assert first.status_code == 201 and first.get_json()["employer"]["id"] == s.host.id  # defaults to the caller
    assert s.host.post(API, body, {"Idempotency-Key": "e-1"}).get_json() == first.get_json()
    dup = s.host.post(API, body)
    assert dup.status_code == 409 and dup.get_json()["employment_id"] == first.get_json()["id"]
    assert employments() == 1
    eid = first.get_json()["id"]
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=11))}).status_code == 422
    assert s.host.patch(f"{API}/{eid}", {}).status_code == 422
    ended = s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=1))})
    assert ended.status_code == 200 and ended.get_json()["ends_on"] == str(today() - timedelta(days=1))
    assert not ended.get_json()["active"] and ids(s.host, "?active=true") == []
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=1))}).status_code == 200
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today())}).status_code == 409
    assert s.host.post(API, body).status_code == 201  # the old one ended: a new placement may start


def _open(worker_id, host_id, via_id, role="welder"):
    return db.session.scalars(select(Employment.id).where(
        Employment.worker_id == worker_id, Employment.employer_id == host_id, Employment.via_id.is_(None)
        if via_id is None else Employment.via_id == via_id, Employment.role == role,
        Employment.ends_on.is_(None))).all()


def test_employment_second_open_one_is_409_naming_the_first_with_or_without_via(client):
    s = Scene(client)
    wk = f.worker(s.host)["id"]
    direct = place(s.host, wk, s.host.id, "welder")
    placed = place(s.agency, wk, s.host.id, "welder", via_id=s.agency.id)  # another via: another placement
    for api, via, first in ((s.host, None, direct), (s.agency, s.agency.id, placed), (s.host, s.agency.id, placed)):
        r = place(api, wk, s.host.id, "welder", via_id=via, starts_on=today() + timedelta(days=3), status=409)
        assert r["employment_id"] == first["id"] and "open employment" in r["detail"]
    assert place(s.host, wk, s.host.id, "scaffolder")["role"] == "scaffolder"  # another role is no duplicate
    assert employments() == 3


def _placement(emp: dict, **change) -> Employment:
    return Employment(**{"worker_id": emp["worker_id"], "employer_id": emp["employer_id"], "via_id": emp["via_id"],
                         "role": emp["role"], "starts_on": today(), "created_by": emp["employer_id"], **change})


def test_employment_insert_that_loses_the_race_is_409_and_keeps_the_unit_of_work(client):
    # The pre-check's SELECT is skipped, as when another request inserted between it and ours:
    # the unique index refuses the row and the savepoint takes back only that insert.
    s = Scene(client)
    wk = f.worker(s.host)["id"]
    direct = place(s.host, wk, s.host.id, "welder")
    placed = place(s.agency, wk, s.host.id, "welder", via_id=s.agency.id)
    earlier = Notice(organization_id=s.host.id, kind="test", text="先写的", text_en="written first")
    db.session.add(earlier)
    db.session.flush()
    for first in (direct, placed):
        with pytest.raises(Conflict) as refused:
            insert_open_employment(_placement(first))
        assert refused.value.status == 409 and refused.value.extra == {"employment_id": first["id"]}
    other_role = insert_open_employment(_placement(direct, role="scaffolder"))
    db.session.commit()
    assert db.session.get(Notice, earlier.id) is not None and db.session.get(Employment, other_role.id)
    assert _open(wk, s.host.id, None) == [direct["id"]] and _open(wk, s.host.id, s.agency.id) == [placed["id"]]
    assert employments() == 3
    # An ended placement is not open: the same one may be recorded again.
    assert s.host.patch(f"{API}/{direct['id']}", {"ends_on": str(today())}).status_code == 200
    again = insert_open_employment(_placement(direct))
    db.session.commit()
    assert _open(wk, s.host.id, None) == [again.id]


def test_employment_concurrent_posts_of_one_placement_make_one(backend, tmp_path):
    """Twenty identical placements at once, twice (a direct hire and one through the agency, posted
    by either party), against gunicorn with two processes of eight threads, on a fresh database of
    the backend's kind."""
    url = live.database_url(backend, tmp_path, "employment")
    app = live.make_app(url)
    try:
        with app.app_context():
            reg = f.regulator(app.test_client())
            host, agency = f.org(reg, "enterprise"), f.org(reg, "labour_agency")
            wk = f.worker(host)["id"]
            db.session.remove()
        direct = {"worker_id": wk, "role": "welder", "starts_on": str(today())}
        placed = {**direct, "employer_id": host.id, "via_id": agency.id}
        jobs = [(host.key, direct)] * 20 + [(agency.key, placed), (host.key, placed)] * 10
        server = live.Server(url, "--workers", "2", "--threads", "8", "--worker-class", "gthread").start()
        try:
            with ThreadPoolExecutor(len(jobs)) as pool:
                answers = list(pool.map(lambda job: server.request("POST", API, job[1], job[0]), jobs))
        finally:
            server.stop()
        for group in (answers[:20], answers[20:]):
            statuses = sorted(status for status, _, _ in group)
            assert statuses == [201] + [409] * 19, [raw[:200] for _, _, raw in group]
            made = {json.loads(raw)["id"] for status, _, raw in group if status == 201}
            assert {json.loads(raw)["employment_id"] for status, _, raw in group if status == 409} == made
        with app.app_context():
            assert len(_open(wk, host.id, None)) == 1 and len(_open(wk, host.id, agency.id)) == 1
            assert employments() == 2
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
        live.drop_database(url)


def _head() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_current_head()


def _revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_employment_migration_0002_refuses_duplicates_and_adds_the_index(backend, tmp_path):
    """On a fresh database of the backend's kind, made by the migrations rather than the models."""
    from flask_migrate import downgrade

    from training.cli import upgrade_schema
    from wsgi import create_app
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _fresh_pg_database("emp0002")
    app = create_app({**SECRETS, "DATABASE_URL": url, "RATE_LIMIT_VERIFY": "off", "TESTING": True})
    try:
        with app.app_context():
            upgrade_schema()  # from empty, through the migrations (not the models)
            assert _revision() == _head()
            reg = f.regulator(app.test_client())
            host = f.org(reg, "enterprise")
            first = place(host, f.worker(host)["id"], host.id, "welder")
            db.session.add(_placement(first))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
            # A database from before 0002 may hold duplicates: the upgrade names them and stops.
            downgrade(revision="0001")
            # Written as 0001 knew the table: later revisions' columns are not there yet.
            dup = _placement(first, starts_on=today() + timedelta(days=1))
            dup.id, dup.created_at = new_id(), utcnow()
            dup_id = dup.id
            table = sa.Table("employments", sa.MetaData(), autoload_with=db.session.connection())
            values = {c.name: getattr(dup, c.name) for c in Employment.__table__.columns if c.name in table.c}
            db.session.execute(table.insert().values({k: v for k, v in values.items() if v is not None}))
            db.session.commit()  # and no new transaction: the migration needs the table to itself
            with pytest.raises(CommandError, match="uq_employments_open") as refused:
                command.upgrade(app.extensions["migrate"].migrate.get_config(), "head")
            message = str(refused.value)
            assert first["id"] in message and dup_id in message and "via (none), role welder" in message
            assert _revision() == "0001"
            # Ended as 0001 knew the table (the models' later columns are not there to load).
            db.session.execute(table.update().where(table.c.id == dup_id).values(ends_on=today() + timedelta(days=1)))
            db.session.commit()
            db.session.remove()
            upgrade_schema()
            assert _revision() == _head()
            db.session.add(_placement(first))
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            _drop_pg_database(url)


# --- on site ---------------------------------------------------------------------------------


def _officer(s):
    insp = f.org(s.w.reg, "inspectorate")
    key = s.w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {"holder": {"name": "李明", "badge": "豫A1024"}})
    return f.Api(s.client, key.get_json()["api_key"], insp.org)


def _scan(officer, cert, site):
    r = officer.post("/api/v1/verify", {"qr_text": cert["qr_text"], "site_id": site["id"]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _onduty(worker_id):
    return db.session.scalars(select(Finding).where(Finding.kind == "unqualified_on_duty",
                                                    Finding.worker_id == worker_id)).all()


def test_onsite_scan_raises_unqualified_on_duty_against_worker_host_and_agency(client):
    s = Scene(client)
    (welder_wrong, cleared_wk, early_wk), certs = s.certified(3)
    site = s.host.post("/api/v1/sites", {"name": "三号井", "latitude": 34.7, "longitude": 113.6}).get_json()
    officer = _officer(s)
    ids_ = [welder_wrong["id"], cleared_wk["id"], early_wk["id"]]
    # On duty as a welder with only a confined-space certificate, placed through the agency; the
    # others placed too, as the host's induction (given to all three) needs.
    place(s.agency, welder_wrong["id"], s.host.id, "welder", via_id=s.agency.id, site_id=site["id"])
    place(s.agency, cleared_wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id)
    place(s.host, early_wk["id"], s.host.id, "confined_space_worker", starts_on=today() - timedelta(days=10))
    induct(s.host, ids_)
    assert _scan(officer, certs[0], site)["result"] == "valid"  # the card itself is fine
    (found,) = _onduty(welder_wrong["id"])
    evidence = json.loads(found.evidence)
    assert evidence["missing_categories"] == ["welding"] and evidence["site_id"] == site["id"]
    parties = {(p.role, p.party_id) for p in db.session.scalars(
        select(FindingParty).where(FindingParty.finding_id == found.id))}
    assert parties == {("worker", welder_wrong["id"]), ("employer", s.host.id), ("labour_agency", s.agency.id)}
    _scan(officer, certs[0], site)
    assert len(_onduty(welder_wrong["id"])) == 1  # one finding per placement and day
    # Qualified and cleared before the start: nothing to find.
    assert check(s.agency, cleared_wk["id"], "confined_space_worker")["cleared"]
    _scan(officer, certs[1], site)  # employed with the site's enterprise, at no named site
    assert _onduty(cleared_wk["id"]) == []
    # Started ten days ago, cleared only today.
    assert check(s.host, early_wk["id"], "confined_space_worker")["cleared"]
    _scan(officer, certs[2], site)
    (late,) = _onduty(early_wk["id"])
    evidence = json.loads(late.evidence)
    assert "started_before_cleared_check" in evidence and "missing_categories" not in evidence
    # A scan with no site, or at another enterprise's site, says nothing about the placement.
    other_site = f.org(s.w.reg, "enterprise").post(
        "/api/v1/sites", {"name": "别处", "latitude": 30.0, "longitude": 110.0}).get_json()
    s.w.body.post(f"/api/v1/certificates/{certs[1]['serial']}/revoke", {"reason": "虚假培训"})
    officer.post("/api/v1/verify", {"qr_text": certs[1]["qr_text"]})
    _scan(officer, certs[1], other_site)
    assert _onduty(cleared_wk["id"]) == []
    _scan(officer, certs[1], site)  # now revoked at the host's site: unqualified
    assert json.loads(_onduty(cleared_wk["id"])[0].evidence)["missing_categories"] == ["confined_space"]
