"""The catalogue: training categories, roles and industries, read from data files.

Every figure (hours, pass marks, validity) lives in ``training/data/*.json`` so a province can
change it without touching code; ``ANZHENG_CATALOGUE_DIR`` points at another folder of the same
files. This module only reads; it never writes.

The figures follow the law in force, which changes: ``rulesets.json`` names the rule sets, each
with ``effective_from`` and ``effective_until`` (inclusive China dates; open-ended when null) and
the figures it changes per category (``categories``: {code: {field: value}}, over
``categories.json``). ``Catalogue.on(day)`` is the catalogue as the set in force that day has it
(docs/rules.md). The sets must follow each other without gap or overlap.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from training import clock

DATA = Path(__file__).resolve().parent / "data"

ORG_KINDS = ("regulator", "training_body", "exam_centre", "enterprise", "labour_agency",
             "subcontractor", "inspectorate")
EMPLOYER_KINDS = ("enterprise", "labour_agency", "subcontractor")


@dataclass(frozen=True)
class Category:
    code: str
    token_code: int
    name: str
    name_en: str
    group: str
    initial_hours: float
    refresher_hours: float
    pass_mark: int
    validity_years: int
    review_interval_years: int
    exam_valid_months: int
    retakes_allowed: int | None  # sittings after the first since the last training; None: no limit
    initial_hours_high_risk: float | None = None
    refresher_hours_high_risk: float | None = None
    # A matching vocational-skill certificate, recorded as evidence, stands for the training hours.
    training_waiver: bool = False

    @property
    def has_review(self) -> bool:
        """0 review years: no review between issue and renewal (the 2026 set's 换证)."""
        return bool(self.review_interval_years)

    def sittings_beyond(self, sittings: int) -> bool:
        """Is the ``sittings``-th sitting since the last training more than these rules allow?"""
        return self.retakes_allowed is not None and sittings > 1 + self.retakes_allowed


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    name_en: str
    required_categories: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RuleSet:
    """The rules in force from ``effective_from`` to ``effective_until`` (None: until further notice)."""
    code: str
    name: str
    name_en: str
    effective_from: date
    effective_until: date | None
    source: str
    categories: dict = field(default_factory=dict, hash=False, compare=False)
    induction: dict = field(default_factory=dict, hash=False, compare=False)  # over industries.json's
    status: str = "confirmed"  # confirmed | reported: how far its figures were checked (docs/rules.md)

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)


class NoRulesInForce(LookupError):
    """No rule set covers the day asked about (before the earliest set)."""


# The figures a rule set may change; a category's identity (code, token code, names, group) it may not.
RULE_FIELDS = frozenset(f.name for f in dataclasses.fields(Category)) - {"code", "token_code", "name", "name_en", "group"}


@dataclass(frozen=True)
class Catalogue:
    categories: dict[str, Category]
    roles: dict[str, Role]
    industries: dict[str, dict]
    induction: dict
    rule_sets: tuple[RuleSet, ...] = ()
    rules: RuleSet | None = None  # the set these categories are as; None: the files as they are

    def rules_on(self, day: date) -> RuleSet:
        for rs in self.rule_sets:
            if rs.covers(day):
                return rs
        raise NoRulesInForce(f"no rule set is in force on {day}")

    def on(self, day: date) -> Catalogue:
        """The catalogue as the rule set in force on ``day`` has it (a folder with no
        rulesets.json has one set: its files as they are)."""
        if not self.rule_sets:
            return self
        return _as_of(self, self.rules_on(day).code)

    def under(self, code: str | None, moment: datetime) -> Catalogue:
        """The catalogue as the set named ``code`` has it (what a record says it was decided
        under), or, for a record that names none or a set no longer defined, the set in force
        at ``moment``."""
        if code is not None and any(rs.code == code for rs in self.rule_sets):
            return _as_of(self, code)
        return self.at(moment)

    def at(self, moment: datetime) -> Catalogue:
        """The catalogue as the set in force at ``moment`` (naive UTC, as stored) has it: the
        China calendar day decides."""
        return self.of_day(clock.day(moment))

    def of_day(self, day: date) -> Catalogue:
        """``on(day)``, except that a day before the earliest set (older than the law the
        catalogue knows) is weighed under the earliest set rather than refused."""
        if self.rule_sets and day < self.rule_sets[0].effective_from:
            return _as_of(self, self.rule_sets[0].code)
        return self.on(day)

    def review_required(self, code: str, review_due: date) -> bool:
        """Does a review falling due on ``review_due`` still have to be made? Not where the set in
        force that day has no review for the category: the 2026 set's older certificates, whose
        review falls due after it came into force, are renewed when they expire instead."""
        if not self.rule_sets:
            return True
        try:
            return self.on(review_due).categories[code].has_review
        except (NoRulesInForce, KeyError):
            return True

    def review_missed(self, code: str, review_due: date, day: date) -> bool:
        """Is a certificate whose review fell due on ``review_due`` overdue for it on ``day``?"""
        return review_due < day and self.review_required(code, review_due)

    def no_review(self, code: str) -> list[tuple[date, date | None]]:
        """The spans (inclusive China dates; None: open) in which a review falling due is not
        required for the category: what the trust list tells an offline verifier."""
        return [(rs.effective_from, rs.effective_until) for rs in self.rule_sets
                if not _as_of(self, rs.code).categories[code].has_review] if code in self.categories else []

    def rule_set(self, code: str | None) -> RuleSet | None:
        return next((rs for rs in self.rule_sets if rs.code == code), None)

    def category(self, code: str) -> Category | None:
        return self.categories.get(code)

    def by_token_code(self, token_code: int) -> Category | None:
        return self._token_codes().get(token_code)

    def _token_codes(self) -> dict[int, Category]:
        return {c.token_code: c for c in self.categories.values()}

    def high_risk(self, industry: str) -> bool:
        return bool(self.industries.get(industry, {}).get("high_risk"))

    def induction_hours(self, industry: str) -> float:
        key = "required_hours_high_risk" if self.high_risk(industry) else "required_hours"
        return float(self.induction[key])


def _read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def load_catalogue(folder: str | None = None) -> Catalogue:
    where = Path(folder or os.environ.get("ANZHENG_CATALOGUE_DIR") or DATA)
    cats = {}
    for item in _read(where, "categories.json")["items"]:
        cats[item["code"]] = Category(**item)
    if len({c.token_code for c in cats.values()}) != len(cats):
        raise ValueError("categories.json: token_code values must be unique")
    roles = {}
    for item in _read(where, "roles.json")["items"]:
        unknown = set(item["required_categories"]) - set(cats)
        if unknown:
            raise ValueError(f"roles.json: role {item['code']} requires unknown categories {unknown}")
        roles[item["code"]] = Role(item["code"], item["name"], item["name_en"], tuple(item["required_categories"]))
    ind = _read(where, "industries.json")
    sets = _rule_sets(where, cats, ind["induction"])
    return Catalogue(cats, roles, {i["code"]: i for i in ind["items"]}, ind["induction"], sets)


def _rule_sets(where: Path, cats: dict[str, Category], induction: dict) -> tuple[RuleSet, ...]:
    """rulesets.json, checked: known categories, fields and induction figures, ordered, no gap
    and no overlap."""
    if not (where / "rulesets.json").exists():
        return ()
    out = []
    for item in _read(where, "rulesets.json")["items"]:
        for code, changes in item.get("categories", {}).items():
            if code not in cats:
                raise ValueError(f"rulesets.json: set {item['code']} changes unknown category {code}")
            unknown = set(changes) - RULE_FIELDS
            if unknown:
                raise ValueError(f"rulesets.json: set {item['code']} changes fields no set may change: {sorted(unknown)}")
        if item.get("status", "confirmed") not in ("confirmed", "reported"):
            raise ValueError(f"rulesets.json: set {item['code']} has status {item['status']!r}, not confirmed or reported")
        unknown = set(item.get("induction", {})) - set(induction)
        if unknown:
            raise ValueError(f"rulesets.json: set {item['code']} changes unknown induction figures {sorted(unknown)}")
        until = item.get("effective_until")
        out.append(RuleSet(item["code"], item["name"], item["name_en"], date.fromisoformat(item["effective_from"]),
                           date.fromisoformat(until) if until else None, item.get("source", ""),
                           item.get("categories", {}), item.get("induction", {}), item.get("status", "confirmed")))
    out.sort(key=lambda rs: rs.effective_from)
    for before, after in zip(out, out[1:]):
        if before.effective_until is None or (after.effective_from - before.effective_until).days != 1:
            raise ValueError(f"rulesets.json: set {after.code} must start the day after {before.code} ends")
    if len({rs.code for rs in out}) != len(out):
        raise ValueError("rulesets.json: rule set codes must be unique")
    return tuple(out)


_AS_OF: dict[tuple[int, str], tuple[Catalogue, Catalogue]] = {}  # (id(base), set code): (base, as of it)


def _as_of(base: Catalogue, code: str) -> Catalogue:
    """Built once per loaded catalogue and set (the base is kept beside it, so an id reused by a
    later object never finds another's)."""
    kept = _AS_OF.get((id(base), code))
    if kept is None or kept[0] is not base:
        rs = next(r for r in base.rule_sets if r.code == code)
        cats = {c: dataclasses.replace(cat, **rs.categories.get(c, {})) for c, cat in base.categories.items()}
        kept = _AS_OF[(id(base), code)] = (base, dataclasses.replace(
            base, categories=cats, induction={**base.induction, **rs.induction}, rules=rs))
    return kept[1]
