"""The catalogue: training categories, roles and industries, read from data files.

Every figure (hours, pass marks, validity) lives in ``training/data/*.json`` so a province can
change it without touching code; ``ANZHENG_CATALOGUE_DIR`` points at another folder of the same
files. This module only reads; it never writes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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
    retakes_allowed: int
    initial_hours_high_risk: float | None = None
    refresher_hours_high_risk: float | None = None


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    name_en: str
    required_categories: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Catalogue:
    categories: dict[str, Category]
    roles: dict[str, Role]
    industries: dict[str, dict]
    induction: dict

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
    where = Path(folder) if folder else DATA
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
    return Catalogue(cats, roles, {i["code"]: i for i in ind["items"]}, ind["induction"])
