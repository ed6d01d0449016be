"""The fraud rules' common ground: their configuration, their words, the parties they name, and
the wiring that runs them when evidence arrives.

Each rule is a small function in ``rules_training``, ``rules_exams``, ``rules_scans`` or
``rules_certificates``; its thresholds and its explanation (zh + en) live in
``verify/rules/data/rules.json`` (a province overrides them with ``FINDINGS_RULES_FILE`` or the
``FINDINGS_RULES`` config dict). ``rules_rerun`` feeds the same functions all of history. Rules run
from the signals of the lower layers, in the same transaction as the evidence, and read only
small indexed slices (one worker, one session, one serial, a few counters). This module never
decides a finding is true and never reads an identity number.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

from flask import current_app, g
from sqlalchemy import select, text

from certificates.models import Certificate
from training.db import db
from training.parties.models import Organization, Site
from training.people.identity import PROVINCES
from training.people.models import Trainer, Worker
from verify.findings.service import EXPLANATION_SEP, raise_finding
from verify.rules.models import RuleCounter

DATA = Path(__file__).resolve().parent / "data" / "rules.json"
KIND_ROLE = {"training_body": "training_body", "exam_centre": "exam_centre", "enterprise": "employer",
             "labour_agency": "labour_agency", "subcontractor": "subcontractor", "inspectorate": "inspectorate"}
FAKE_TRAINING = ("training_overlap", "trainer_double_booked", "session_over_capacity", "too_many_hours_in_a_day",
                 "late_record", "training_while_on_site", "issuance_spike", "home_region_far")
FAKE_EXAMS = ("exam_before_training", "exam_too_fast", "identical_answers", "retake_beyond_limit", "score_anomaly")
FAKE_CERTIFICATES = ("forged_certificate", "unregistered_certificate", "certificate_clone", "holder_mismatch",
                     "certificate_without_evidence")
ILLEGAL_EMPLOYMENT = ("no_certificate_on_duty", "unqualified_on_duty")
KINDS = FAKE_TRAINING + FAKE_EXAMS + FAKE_CERTIFICATES + ILLEGAL_EMPLOYMENT


# --- configuration ----------------------------------------------------------------------------

def _merge(into: dict, over: dict) -> None:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def load_rules(config) -> dict:
    rules = json.loads(DATA.read_text(encoding="utf-8"))
    if config.get("FINDINGS_RULES_FILE"):
        _merge(rules, json.loads(Path(config["FINDINGS_RULES_FILE"]).read_text(encoding="utf-8")))
    _merge(rules, copy.deepcopy(config.get("FINDINGS_RULES") or {}))
    return rules


def cfg(rule: str) -> dict:
    return current_app.extensions["findings_rules"][rule]


def enabled(rule: str) -> bool:
    if rule == "late_record" and not current_app.config.get("FINDINGS_LATE_RECORDS", True):
        return False
    if rule == "issuance_spike" and not current_app.config.get("FINDINGS_ISSUANCE_SPIKES", True):
        return False
    return bool(cfg(rule).get("enabled", True))


class _Blank(dict):
    def __missing__(self, key):
        return "?"


def explain(rule: str, **figures) -> str:
    words = cfg(rule)["explain"]
    fill = _Blank({**{k: v for k, v in cfg(rule).items() if not isinstance(v, dict)}, **figures})
    return words["zh"].format_map(fill) + EXPLANATION_SEP + words["en"].format_map(fill)


def fire(rule: str, key: str, evidence: dict, parties, worker_id=None, certificate_serial=None, **figures):
    """Raise one finding of ``rule`` (idempotent on key), explained with the evidence's figures."""
    if not enabled(rule):
        return None
    return raise_finding(rule, cfg(rule)["severity"], f"{rule}:{key}", evidence,
                         explain(rule, **{**evidence, **figures}), parties, worker_id=worker_id,
                         certificate_serial=certificate_serial)


# --- names and parties (cached per app context: rules name parties often, rarely new ones) ----

def _cache(kind: str) -> dict:
    caches = g.setdefault("_rule_names", {})
    return caches.setdefault(kind, {})


def org_info(org_id: str | None):
    """(kind, name, region) of an organisation, or None."""
    if not org_id:
        return None
    cache = _cache("org")
    if org_id not in cache:
        cache[org_id] = db.session.execute(select(Organization.kind, Organization.name, Organization.region)
                                           .where(Organization.id == org_id)).first()
    return cache[org_id]


def org_party(org_id: str | None, role: str | None = None):
    info = org_info(org_id)
    if info is None:
        return None
    role = role or KIND_ROLE.get(info[0])
    return (role, org_id, info[1]) if role else None


def worker_info(worker_id: str | None):
    """(name, home_region, masked id) of a worker, or None."""
    if not worker_id:
        return None
    cache = _cache("worker")
    if worker_id not in cache:
        cache[worker_id] = db.session.execute(select(Worker.name, Worker.home_region, Worker.id_masked)
                                              .where(Worker.id == worker_id)).first()
    return cache[worker_id]


def worker_party(worker_id):
    info = worker_info(worker_id)
    return ("worker", worker_id, info[0]) if info else None


def trainer_party(trainer_id):
    if not trainer_id:
        return None
    cache = _cache("trainer")
    if trainer_id not in cache:
        cache[trainer_id] = db.session.scalar(select(Trainer.name).where(Trainer.id == trainer_id))
    return ("trainer", trainer_id, cache[trainer_id]) if cache[trainer_id] else None


def site_info(site_id: str | None):
    """(name, latitude, longitude, enterprise_id) of a site, or None."""
    if not site_id:
        return None
    cache = _cache("site")
    if site_id not in cache:
        cache[site_id] = db.session.execute(select(Site.name, Site.latitude, Site.longitude, Site.enterprise_id)
                                            .where(Site.id == site_id)).first()
    return cache[site_id]


def parties(*items) -> list:
    return [p for p in items if p]


def certificate_for(worker_id: str, category: str | None, record_ids) -> str | None:
    """The worker's certificate whose issuance rested on any of these records, if one exists."""
    ids = set(record_ids)
    stmt = select(Certificate.serial, Certificate.evidence).where(Certificate.worker_id == worker_id)
    if category:
        stmt = stmt.where(Certificate.category == category)
    for serial, snapshot in db.session.execute(stmt.order_by(Certificate.issued_at.desc())):
        if ids & snapshot_ids(snapshot):
            return serial
    return None


def snapshot_refs(snapshot: str | None) -> set[str]:
    """The records a certificate's evidence snapshot names, as ``attendance:<id>``/``exam:<id>``
    (and ``credential:<id>``, the skill certificate that stood for the hours)."""
    try:
        snap = json.loads(snapshot or "{}")
    except ValueError:
        return set()
    exams = set(snap.get("exam_ids") or []) | ({snap["exam_id"]} if snap.get("exam_id") else set())
    return ({f"attendance:{i}" for i in snap.get("attendance_ids") or []} | {f"exam:{i}" for i in exams}
            | ({f"credential:{snap['waived_by']}"} if snap.get("waived_by") else set()))


def snapshot_ids(snapshot: str | None) -> set[str]:
    return {ref.split(":", 1)[1] for ref in snapshot_refs(snapshot)}


# --- time and place -----------------------------------------------------------------------------

def months_back(month: str, n: int) -> list[str]:
    """``month`` and the n-1 months before it, as YYYY-MM."""
    y, m = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def province_point(code: str | None):
    p = PROVINCES.get((code or "")[:2])
    return (p.lat, p.lon) if p else None


# --- counters -------------------------------------------------------------------------------------

def bump(counts: dict[str, int]) -> None:
    """Add to rule counters (created at zero when missing), in one statement."""
    rows = [{"key": k, "count": n} for k, n in sorted(counts.items()) if n]
    if rows:
        db.session.execute(_UPSERT, rows)


# Plain SQL that both backends read alike: SQLAlchemy cannot cache an ON CONFLICT construct,
# and compiling it anew on every issuance and scan cost more than running it.
_UPSERT = text(f'INSERT INTO {RuleCounter.__tablename__} ("key", count) VALUES (:key, :count) '
               f'ON CONFLICT ("key") DO UPDATE SET count = {RuleCounter.__tablename__}.count + excluded.count')


def read_counters(keys, source=None) -> dict[str, int]:
    """Counter values for these keys; ``source`` (a mapping) stands in for the table in bulk runs."""
    keys = list(keys)
    if source is not None:
        return {k: source.get(k, 0) for k in keys}
    rows = db.session.execute(select(RuleCounter.key, RuleCounter.count).where(RuleCounter.key.in_(keys)))
    found = dict(rows.all())
    return {k: found.get(k, 0) for k in keys}


# --- statistics -------------------------------------------------------------------------------------

def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the one-sided tail the per-body tests use."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_pmf = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
               + k * math.log(p) + (n - k) * math.log1p(-p))
    term, total, odds = math.exp(log_pmf), 0.0, p / (1 - p)
    for i in range(k, n + 1):
        total += term
        if term < total * 1e-17:
            break
        term *= (n - i) / (i + 1) * odds
    return min(1.0, total)


def fmt_p(p: float) -> str:
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


# --- wiring -------------------------------------------------------------------------------------
