"""Rule sets by effective date: the catalogue as the set in force on a day has it, checked when
loaded, and answered by GET /api/v1/categories?on=DATE."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from training.catalogue import DATA, NoRulesInForce, load_catalogue


def _folder(tmp_path, sets):
    for name in ("categories.json", "roles.json", "industries.json"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "rulesets.json").write_text(json.dumps({"items": sets}, ensure_ascii=False), encoding="utf-8")
    load_catalogue.cache_clear()
    return str(tmp_path)


def _set(code, start, until=None, **categories):
    return {"code": code, "name": code, "name_en": code, "effective_from": start, "effective_until": until,
            "categories": categories}


def test_rulesets_each_day_gets_the_set_in_force(tmp_path):
    folder = _folder(tmp_path, [_set("2026", "2026-06-01", welding={"review_interval_years": 6, "retakes_allowed": 4}),
                                _set("2010", "2010-07-01", "2026-05-31")])
    try:
        cat = load_catalogue(folder)
        before, after = cat.on(date(2026, 5, 31)), cat.on(date(2026, 6, 1))
        assert before.rules.code == "2010" and after.rules.code == "2026"
        assert before.categories["welding"].review_interval_years == 3 and before.categories["welding"].retakes_allowed == 1
        assert after.categories["welding"].review_interval_years == 6 and after.categories["welding"].retakes_allowed == 4
        assert after.categories["electrician_low_voltage"] == before.categories["electrician_low_voltage"]
        assert cat.on(date(2030, 1, 1)) is after  # built once per set
        with pytest.raises(NoRulesInForce):
            cat.on(date(2010, 6, 30))
    finally:
        load_catalogue.cache_clear()


@pytest.mark.parametrize("sets, says", [
    ([_set("a", "2010-07-01", "2026-05-31"), _set("b", "2026-06-02")], "must start the day after"),
    ([_set("a", "2010-07-01", "2026-06-01"), _set("b", "2026-06-01")], "must start the day after"),
    ([_set("a", "2010-07-01"), _set("b", "2026-06-01")], "must start the day after"),
    ([_set("a", "2010-07-01", None, welding={"token_code": 99})], "fields no set may change"),
    ([_set("a", "2010-07-01", None, astronaut={"pass_mark": 1})], "unknown category"),
])
def test_rulesets_gaps_overlaps_and_unknown_figures_are_refused_when_loaded(tmp_path, sets, says):
    folder = _folder(tmp_path, sets)
    try:
        with pytest.raises(ValueError, match=says):
            load_catalogue(folder)
    finally:
        load_catalogue.cache_clear()


def test_rulesets_categories_on_a_day(client, backend):
    if backend != "sqlite":
        pytest.skip("the catalogue is files, not the database")
    today = client.get("/api/v1/categories").get_json()
    assert today["rules"]["code"] == "2010" and today["rules"]["effective_from"] == "2010-07-01"
    assert len(today["items"]) == len(load_catalogue().categories)
    past = client.get("/api/v1/categories?on=2015-03-01").get_json()
    assert past["on"] == "2015-03-01" and past["items"] == today["items"]
    for bad in ("2015-3-1", "yesterday", "20150301", "2015-02-30"):
        r = client.get(f"/api/v1/categories?on={bad}")
        assert r.status_code == 400 and r.mimetype == "application/problem+json", bad
    r = client.get("/api/v1/categories?on=2001-01-01")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "no_rules"


def test_rulesets_issuance_takes_validity_and_review_from_the_set_in_force(client, tmp_path, monkeypatch):
    """A certificate issued today under a set that began yesterday gets that set's review; the
    same history under the 2010 set alone gets the three-yearly review (the history's dates are
    the same either way: trained and examined before the change, certified after it)."""
    from datetime import timedelta

    from tests.certificates.test_issuance import issue, ready_worker
    from tests import factories as f
    from training.db import utcnow
    yesterday = (utcnow() + timedelta(hours=8)).date() - timedelta(days=1)
    w = f.World(client)
    old = issue(w, ready_worker(w)).get_json()
    assert date.fromisoformat(old["review_due"]) < date.fromisoformat(old["valid_until"])  # 3-yearly review
    folder = _folder(tmp_path, [_set("2010", "2010-07-01", str(yesterday - timedelta(days=1))),
                                _set("next", str(yesterday), welding={"review_interval_years": 6, "validity_years": 6})])
    monkeypatch.setenv("ANZHENG_CATALOGUE_DIR", folder)
    load_catalogue.cache_clear()
    try:
        assert load_catalogue().rules_on(yesterday).code == "next"
        new = issue(w, ready_worker(w)).get_json()
        assert new["review_due"] == new["valid_until"]  # no review before the renewal
        assert new["valid_until"] == old["valid_until"]
    finally:
        monkeypatch.delenv("ANZHENG_CATALOGUE_DIR")
        load_catalogue.cache_clear()
