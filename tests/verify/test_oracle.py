"""Audit items 2 and 4: no lookup by identity number is an oracle, and employers learn about
workers they employ only. Each test performs the audit's attack and shows it refused."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests import factories as f
from tests.verify.test_prestart import Scene, place
from training.db import db
from training.db.models import AuditEntry
from training.people.identity import _id_check_char
from training.people.models import Worker
from verify.prestart.models import PrestartCheck

BATCH = "/api/v1/prestart-checks/batch"


def candidates(number: str, n: int) -> list[str]:
    """Numbers with the same masked form as ``number`` (its first 6 and last 4), as an attacker
    holding the masked form would try: other birth dates whose check digit happens to fit."""
    out, day = [], date(1960, 1, 1)
    while len(out) < n:
        body = number[:6] + day.strftime("%Y%m%d") + number[14:17]
        if _id_check_char(body) == number[17] and body + number[17] != number:
            out.append(body + number[17])
        day += timedelta(days=1)
    return out


def checks() -> int:
    return db.session.scalar(select(func.count()).select_from(PrestartCheck))


def limited_entries() -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.event == "id_lookup.limited").order_by(AuditEntry.seq)).all()


def test_oracle_masked_number_batch_learns_nothing_without_the_name(client):
    s = Scene(client)
    full = f.id_number()
    wk = f.worker(s.w.body, full, name="陈建国")
    assert wk["id_number_masked"] == full[:6] + "*" * 8 + full[-4:]  # all an outsider holds
    stranger = f.org(s.w.reg, "enterprise")
    tries = candidates(full, 12) + [full]
    r = stranger.post(BATCH, {"role": "general_labourer", "items": [{"id_number": n} for n in tries]})
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    # The one that exists is answered exactly as the ones that do not: same status, same words.
    assert {i["status"] for i in items} == {422}
    assert len({repr(i["errors"]) for i in items}) == 1 and items[-1]["errors"][0]["code"] == "not_registered"
    body = r.get_data(as_text=True)
    assert "陈建国" not in body and wk["id"] not in body and full not in body and checks() == 0
    # A wrong name is the same answer too; the name on the ID card opens the answer.
    wrong = stranger.post(BATCH, {"role": "general_labourer", "items": [{"id_number": full, "name": "张冒名"}]})
    assert wrong.status_code == 200, wrong.get_json()
    assert wrong.get_json()["items"][0]["errors"] == items[0]["errors"]
    right = stranger.post(BATCH, {"role": "general_labourer", "items": [{"id_number": full, "name": "陈 建国"}]})
    (item,) = right.get_json()["items"]
    assert item["status"] == 200 and item["worker_id"] == wk["id"] and item["name"] == "陈建国" and checks() == 1


def test_oracle_lookups_limited_per_person_across_keys_and_per_organisation(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_ID_LOOKUP_PERSON", "6/day")
    monkeypatch.setitem(app.config, "RATE_LIMIT_ID_LOOKUP_ORG", "9/hour")
    s = Scene(client)
    full = f.id_number()
    f.worker(s.w.body, full, name="王秀英")
    tries = candidates(full, 10)
    a, b = f.org(s.w.reg, "enterprise"), f.org(s.w.reg, "enterprise")
    # Two keys of two organisations share the person's count: the masked form is the person.
    r = a.post(BATCH, {"role": "general_labourer", "items": [{"id_number": n, "name": "王秀英"} for n in tries[:4]]})
    assert r.status_code == 200
    r = b.post(BATCH, {"role": "general_labourer", "items": [{"id_number": n, "name": "王秀英"} for n in tries[4:7]]})
    assert r.status_code == 429 and r.mimetype == "application/problem+json" and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["limit"] == "person" and full not in r.get_data(as_text=True)
    # Even the right pair is refused now, and registration counts as a lookup as well.
    r = b.post(BATCH, {"role": "general_labourer", "items": [{"id_number": full, "name": "王秀英"}]})
    assert r.status_code == 429 and checks() == 0
    assert b.post("/api/v1/workers", {"name": "王秀英", "id_number": full}).status_code == 429
    (entry,) = limited_entries()  # the first refusal is audited, the flood after it is not
    assert entry.actor_org == b.id and "person" in entry.detail and full not in entry.detail
    # Per organisation: numbers of many different people, one organisation.
    others = [f.id_number() for _ in range(10)]
    c = f.org(s.w.reg, "enterprise")
    r = c.post(BATCH, {"role": "general_labourer", "items": [{"id_number": n} for n in others[:9]]})
    assert r.status_code == 200
    r = c.post(BATCH, {"role": "general_labourer", "items": [{"id_number": others[9]}]})
    assert r.status_code == 429 and r.get_json()["limit"] == "organization"
    assert [e.actor_org for e in limited_entries()] == [b.id, c.id]
    # An inspectorate has its own, larger limit.
    assert app.config["RATE_LIMIT_ID_LOOKUP_INSPECTORATE"] != app.config["RATE_LIMIT_ID_LOOKUP_ORG"]


def test_oracle_registration_returns_an_existing_worker_only_with_its_name(client):
    s = Scene(client)
    full = f.id_number()
    first = f.worker(s.w.body, full, name="李红梅")
    stranger = f.org(s.w.reg, "enterprise")
    again = stranger.post("/api/v1/workers", {"name": "李红梅", "id_number": full})
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    r = stranger.post("/api/v1/workers", {"name": "李红霉", "id_number": full})
    assert r.status_code == 409 and r.get_json()["errors"][0]["code"] == "name_mismatch"
    assert first["id"] not in r.get_data(as_text=True) and "李红梅" not in r.get_data(as_text=True)
    r = stranger.post("/api/v1/workers/batch", {"items": [{"name": "李红霉", "id_number": full}]})
    assert r.get_json()["items"][0]["status"] == 409
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 1  # nothing new was registered


def test_oracle_refused_registrations_still_count(client, app, monkeypatch):
    """A 409 rolls its request back; the lookup it made stays counted (on SQLite, written again
    after the rollback), so wrong names cannot be tried without end."""
    monkeypatch.setitem(app.config, "RATE_LIMIT_ID_LOOKUP_PERSON", "3/day")
    s = Scene(client)
    full = f.id_number()
    f.ORGS[s.w.body.id] = s.w.body
    stranger = f.org(s.w.reg, "enterprise")
    codes = [stranger.post("/api/v1/workers", {"name": f"试名{i}", "id_number": n}, {"Idempotency-Key": f"k{i}"}).status_code
             for i, n in enumerate([full] + candidates(full, 3))]
    assert codes[:3] == [201, 201, 201] or codes[:3] == [201, 201, 201]  # new people, each registered
    assert codes[3] == 429
    other = f.id_number()
    f.worker(s.w.body, other, name="周敏")
    b = f.org(s.w.reg, "enterprise")
    tried = [b.post("/api/v1/workers", {"name": "周某", "id_number": n}, {"Idempotency-Key": f"m{i}"}).status_code
             for i, n in enumerate([other, other, other])]
    assert tried == [409, 409, 429]  # registration by the body counted once; two misses; then the limit


def test_oracle_worker_page_and_appeals_limited_per_certificate_across_addresses(client, app):
    from tests.verify.test_appeals import confirmed_fast_exam
    w, wk, number, cert, hit = confirmed_fast_exam(client)
    from tests.console.helpers import token
    csrf = token(client, "/worker")
    wrong = candidates(number, 12)
    codes = [client.post("/worker", data={"serial": cert["serial"], "id_number": n, "csrf_token": csrf},
                         environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code for i, n in enumerate(wrong[:10])]
    assert codes == [404] * 10  # one try from each of ten addresses, each within its address's limit
    r = client.post("/worker", data={"serial": cert["serial"], "id_number": number, "csrf_token": csrf},
                    environ_base={"REMOTE_ADDR": "10.1.0.99"})
    assert r.status_code == 429 and wk["name"] not in r.get_data(as_text=True)
    # Another card is its own count.
    other = client.post("/worker", data={"serial": "ZZZZ-ZZZZ-ZZZZ", "id_number": number, "csrf_token": csrf},
                        environ_base={"REMOTE_ADDR": "10.1.0.98"})
    assert other.status_code == 404
    # The appeals API counts failed proofs per certificate as well as per client.
    app.extensions["findings_rules"].setdefault("appeals", {})
    body = {"serial": cert["serial"], "finding_id": hit.id, "explanation": "冒名申诉冒名申诉"}
    codes = [client.post("/api/v1/appeals", json={**body, "id_number": n},
                         environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code for i, n in enumerate(wrong)]
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]


def test_oracle_stranger_enterprise_check_reveals_no_standing(client):
    s = Scene(client)
    (wk,), _ = s.certified()
    stranger = f.org(s.w.reg, "enterprise")
    r = stranger.post("/api/v1/prestart-checks", {"worker_id": wk["id"], "role": "confined_space_worker"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "no_placement"
    assert wk["name"] not in r.get_data(as_text=True) and checks() == 0
    # Once it employs the worker, it may ask.
    place(stranger, wk["id"], stranger.id, "confined_space_worker")
    r = stranger.post("/api/v1/prestart-checks", {"worker_id": wk["id"], "role": "confined_space_worker"})
    assert r.status_code == 200 and r.get_json()["worker"]["name"] == wk["name"]


def test_oracle_certificate_and_card_only_for_issuer_employers_and_oversight(client):
    s = Scene(client)
    (wk,), (cert,) = s.certified()
    inspectorate = f.org(s.w.reg, "inspectorate")
    stranger = f.org(s.w.reg, "enterprise")
    paths = [f"/api/v1/certificates/{cert['serial']}" + p for p in ("", "/card.pdf", "/qr.png", "/qr.svg")]
    for api in (s.w.body, s.w.reg, inspectorate):  # inspectors look a damaged card up by its serial
        assert [api.get(p).status_code for p in paths] == [200] * 4
    for api in (stranger, s.w.centre, s.host, s.agency):
        assert [api.get(p).status_code for p in paths] == [404] * 4, api.org["kind"]
    emp = place(s.agency, wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id, confirm=False)
    assert emp["status"] == "pending"
    assert s.agency.get(paths[0]).status_code == 200  # the agency's own placement
    assert s.host.get(paths[0]).status_code == 404  # not the host's until it confirms
    f.confirmed(emp)
    assert s.host.get(paths[0]).status_code == 200 and s.host.get(paths[1]).mimetype == "application/pdf"


def test_oracle_agency_placement_pending_until_the_host_confirms(client):
    s = Scene(client)
    (wk,), (cert,) = s.certified()
    emp = place(s.agency, wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id, confirm=False)
    assert emp["status"] == "pending" and emp["active"] is False
    # Pending: no notices and no place among a case's parties for the host.
    s.w.body.post(f"/api/v1/certificates/{cert['serial']}/suspend", {"reason": "核查"})
    assert s.host.get("/api/v1/notices").get_json()["items"] == []
    assert len(s.agency.get("/api/v1/notices").get_json()["items"]) == 1
    from verify.cases.service import resolve_parties
    from verify.findings.service import raise_finding
    finding = raise_finding("holder_mismatch", "high", f"oracle:{wk['id']}", {}, "人证不符",
                            [("worker", wk["id"], wk["name"])], worker_id=wk["id"])
    db.session.commit()
    roles = {(role, pid) for role, pid, _ in resolve_parties([finding])}
    assert ("employer", s.host.id) not in roles and ("labour_agency", s.agency.id) in roles
    # No one but the host confirms; the host does, once.
    for api in (s.agency, f.org(s.w.reg, "enterprise")):
        assert api.post(f"/api/v1/employments/{emp['id']}/confirm").status_code == 404
    done = s.host.post(f"/api/v1/employments/{emp['id']}/confirm")
    assert done.status_code == 200 and done.get_json()["status"] == "active" and done.get_json()["active"]
    assert s.host.post(f"/api/v1/employments/{emp['id']}/confirm").get_json()["status"] == "active"
    roles = {(role, pid) for role, pid, _ in resolve_parties([finding])}
    assert ("employer", s.host.id) in roles
    s.w.body.post(f"/api/v1/certificates/{cert['serial']}/reinstate", {"reason": "核查无误"})
    assert [n["kind"] for n in s.host.get("/api/v1/notices").get_json()["items"]] == ["certificate_reinstated"]
    # A placement the host records itself is active at once.
    other = f.worker(s.host)
    assert place(s.host, other["id"], s.host.id, "general_labourer", confirm=False)["status"] == "active"
