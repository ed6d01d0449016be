"""``flask rules``: a regulator lists, checks and loads rule sets without a code change; a file
that drops or silently changes a set certificates were issued under is refused, nothing written."""
from __future__ import annotations

import json

from sqlalchemy import select

from certificates.models import Certificate
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.catalogue import DATA, load_catalogue
from training.db import db
from training.db.models import AuditEntry


def _shipped() -> dict:
    return json.loads((DATA / "rulesets.json").read_text(encoding="utf-8"))


def _file(tmp_path, doc, name="rules.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_rules_list_shows_the_sets_and_what_was_issued_under_each(client, runner):
    w = f.World(client)
    issue(w, ready_worker(w))
    out = runner.invoke(args=["rules", "list"])
    assert out.exit_code == 0, out.output
    assert "2010     2010-07-01 – 2026-05-31  [confirmed]" in out.output
    assert "2026     2026-06-01 – until further notice  [reported]" in out.output
    assert "1 under 2026" in out.output


def test_rules_load_checks_then_writes_and_records_it(client, runner, tmp_path, monkeypatch):
    w = f.World(client)
    c = issue(w, ready_worker(w)).get_json()
    db.session.get(Certificate, c["serial"]).rules = "2010"  # as if issued before the change
    db.session.commit()
    doc = _shipped()
    doc["items"][1]["effective_until"] = "2027-12-31"
    doc["items"].append({"code": "2028", "name": "假设的下一版", "name_en": "a next revision",
                         "effective_from": "2028-01-01", "effective_until": None, "status": "reported",
                         "categories": {"welding": {"initial_hours": 120}}})
    path, into = _file(tmp_path, doc), tmp_path / "catalogue"
    checked = runner.invoke(args=["rules", "check", str(path)])
    assert checked.exit_code == 0 and "can be loaded" in checked.output, checked.output
    # The migration path: a certificate keeps the set its record names, and the command says so.
    assert "1 certificate(s) issued under set 2010 after 2026-05-31" in checked.output
    assert not into.exists()
    out = runner.invoke(args=["rules", "load", str(path), "--into", str(into), "--yes"])
    assert out.exit_code == 0, out.output
    assert "set ANZHENG_CATALOGUE_DIR=" in out.output
    assert json.loads((into / "rulesets.json").read_text(encoding="utf-8")) == doc
    assert {p.name for p in into.iterdir()} == {"categories.json", "roles.json", "industries.json", "rulesets.json"}
    monkeypatch.setenv("ANZHENG_CATALOGUE_DIR", str(into))
    load_catalogue.cache_clear()
    try:
        from datetime import date
        assert load_catalogue().on(date(2028, 3, 1)).categories["welding"].initial_hours == 120
        assert load_catalogue().on(date(2027, 3, 1)).categories["welding"].initial_hours == 108
    finally:
        monkeypatch.delenv("ANZHENG_CATALOGUE_DIR")
        load_catalogue.cache_clear()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.event == "rules.loaded")).one()
    assert entry.subject == "2010,2026,2028"


def test_rules_load_refuses_what_would_strand_issued_certificates(client, runner, tmp_path):
    w = f.World(client)
    issue(w, ready_worker(w))  # issued under 2026
    into = tmp_path / "catalogue"
    dropped = _shipped()
    dropped["items"] = dropped["items"][:1]
    dropped["items"][0]["effective_until"] = None
    changed = _shipped()
    changed["items"][1]["categories"]["welding"]["review_interval_years"] = 3
    gap = _shipped()
    gap["items"][1]["effective_from"] = "2026-06-02"
    for doc, says in ((dropped, "issued under set 2026, which the file drops"),
                      (changed, "changes figures of set 2026"),
                      (gap, "must start the day after"),
                      ({"items": []}, "names no rule set")):
        out = runner.invoke(args=["rules", "load", str(_file(tmp_path, doc)), "--into", str(into), "--yes"])
        assert out.exit_code != 0 and says in out.output, out.output
        assert not into.exists()  # nothing written
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = runner.invoke(args=["rules", "check", str(bad)])
    assert out.exit_code != 0 and "is not JSON" in out.output
    out = runner.invoke(args=["rules", "load", str(_file(tmp_path, changed)), "--into", str(into), "--yes", "--amend"])
    assert out.exit_code == 0, out.output  # meant: --amend says so
    out = runner.invoke(args=["rules", "load", str(_file(tmp_path, _shipped())), "--yes"])
    assert out.exit_code != 0 and "give --into DIR" in out.output
    out = runner.invoke(args=["rules", "load", str(_file(tmp_path, _shipped())), "--into", str(DATA), "--yes"])
    assert out.exit_code != 0 and "part of the code" in out.output
