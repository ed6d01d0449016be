"""Generated history with staged frauds: do the rules find every fraud, and leave honest workers alone?

Builds, straight into the tables (bulk inserts, no HTTP, no signals), about a year of a province's
records: 40 training bodies, 12 exam centres, 20,000+ workers, 200,000+ attendance records, their
exams, certificates and inspectors' scans, with a known set of staged frauds of every kind mixed
in. It then records a few on-site inspections through the live service (the rules that fire only
there), re-runs every rule over the whole history with the ``findings-rerun`` service, and prints
recall per rule, false findings as a share of honest workers (target: at most 1%), and the time.

    .venv/bin/python bench/fraud_history.py [--workers 20000] [--db sqlite|URL] [--seed 4]

Everything is generated; no real person's data is used. The database is a fresh file under /tmp
unless --db names another (it is emptied first).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.clock import CHINA  # noqa: E402  (after the path that finds it)

PROVINCES = {"41": "410102", "44": "440106", "51": "510107", "32": "320102", "37": "370102", "13": "130102",
             "42": "420106", "43": "430104", "61": "610113", "33": "330106", "34": "340104", "36": "360102"}
FAR = ["650102", "540102", "630102", "230102", "220102"]  # Xinjiang, Tibet, Qinghai, Heilongjiang, Jilin
CATS = {"welding": (108, "welder"), "confined_space": (24, "confined_space_worker")}


class Gen:
    """Row generator: every table's rows as dicts, plus the staged frauds' answer key."""

    def __init__(self, rng: random.Random, now: datetime, protector):
        self.rng, self.now, self.protector = rng, now, protector
        self.rows = defaultdict(list)
        self.staged = defaultdict(set)      # rule -> keys expected to be found
        self.staged_workers: set[str] = set()
        self.numbers: dict[str, str] = {}   # worker id -> identity number (for inspections only)
        self.used: set[str] = set()
        self.seq = 0

    def id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def org(self, kind, name, region=None, industry=None) -> str:
        from training.people.identity import generate_credit_code
        oid = self.id()
        self.rows["organizations"].append(dict(id=oid, name=name, kind=kind, region=region, industry=industry,
                                               credit_code=generate_credit_code(self.rng), created_at=self.now))
        return oid

    def person(self, table, home: str, name="某某") -> str:
        from training.people.identity import generate_id_number, mask_id_number
        number = generate_id_number(self.rng, region=home)
        while number in self.used:  # registered once per person: draw again on a collision
            number = generate_id_number(self.rng, region=home)
        self.used.add(number)
        pid = self.id()
        self.rows[table].append(dict(id=pid, name=name, id_hash=self.protector.lookup_hash(number), id_cipher=b"-",
                                     id_masked=mask_id_number(number), home_region=home, created_at=self.now))
        if table == "workers":
            self.numbers[pid] = number
        return pid

    def session(self, org, trainer, start, hours, category, capacity=40, kind="initial", lat=None, lon=None) -> dict:
        s = dict(id=self.id(), organization_id=org, category=category, kind=kind, level=None, starts_at=start,
                 ends_at=start + timedelta(hours=hours), location="教室", latitude=lat, longitude=lon,
                 trainer_id=trainer, capacity=capacity, created_at=start - timedelta(days=1))
        self.rows["sessions"].append(s)
        return s

    def attend(self, s, worker, late_days=0.0) -> str:
        aid = self.id()
        created = s["ends_at"] + timedelta(hours=self.rng.uniform(0.1, 20) + 24 * late_days)
        self.rows["attendance"].append(dict(id=aid, session_id=s["id"], worker_id=worker, check_in=s["starts_at"],
                                            check_out=s["ends_at"], hours=(s["ends_at"] - s["starts_at"]).seconds / 3600,
                                            created_at=created))
        return aid

    def exam(self, worker, category, centre, taken, theory, practical=None, duration=None, digest=None, wrong=None):
        practical = practical if practical is not None else min(100, max(40, round(self.rng.gauss(89, 5))))
        if digest is None and theory < 100:
            wrong = max(1, round((100 - theory) / 2))
            digest = hashlib.sha256(self.id().encode()).hexdigest()
        e = dict(id=self.id(), worker_id=worker, category=category, exam_centre_id=centre, taken_at=taken,
                 duration_minutes=duration or self.rng.randint(40, 110), theory_score=theory,
                 practical_score=practical, examiner="考评员", answers_digest=digest, wrong_count=wrong,
                 passed=theory >= 80 and practical >= 80, created_at=taken + timedelta(hours=self.rng.uniform(2, 20)))
        self.rows["exams"].append(e)
        return e


def build(gen: Gen, n_workers: int) -> dict:
    """The province's history; returns what the inspections and the report need."""
    rng, now = gen.rng, gen.now
    start = now - timedelta(days=330)
    reg = gen.org("regulator", "省应急管理厅")
    insp = gen.org("inspectorate", "省应急管理综合执法总队")
    provs = list(PROVINCES)
    centres = [gen.org("exam_centre", f"考试中心{i}", PROVINCES[provs[i % len(provs)]]) for i in range(11)]
    mill_centre = gen.org("exam_centre", "包过考试中心", "410102")
    bodies = []
    for i in range(40):
        prov = provs[i % len(provs)]
        bodies.append(dict(id=gen.org("training_body", f"培训机构{i}", PROVINCES[prov]), prov=prov, centre=centres[i % 11],
                           far=i in (7, 19), spike=i in (3, 23), mill=i == 11))
    for b in bodies:
        if b["mill"]:
            b["centre"] = mill_centre
    ents = [gen.org("enterprise", f"企业{i}", PROVINCES[provs[i % len(provs)]], "construction") for i in range(30)]
    from training.people.identity import PROVINCES as CAPITALS
    sites = []
    for i in range(200):
        prov = provs[i % len(provs)]
        cap = CAPITALS[prov]
        sites.append(dict(id=gen.id(), name=f"工地{i}", enterprise_id=ents[i % 30], latitude=cap.lat + rng.uniform(-.1, .1),
                          longitude=cap.lon + rng.uniform(-.1, .1), risk_class="normal", created_by=insp, created_at=now))
    gen.rows["sites"] = sites
    per_body = n_workers // len(bodies)
    certified = []   # (worker, serial, body, category)
    failed = []
    for b in bodies:
        trainers = [gen.person("trainers", PROVINCES[b["prov"]], "教师") for _ in range(3)]
        first = now - timedelta(days=130) if b["spike"] else start + timedelta(days=rng.randint(0, 180))
        cursor = [first + timedelta(days=rng.randint(0, 10)) for _ in trainers]
        retrain = {"trainer": gen.person("trainers", PROVINCES[b["prov"]], "复训教师"), "days": {}}
        made = 0
        while made < per_body:
            t = min(range(3), key=lambda k: cursor[k])
            category = "welding" if rng.random() < 0.7 else "confined_space"
            size = min(30, per_body - made)
            cohort = [gen.person("workers", _home(rng, b)) for _ in range(size)]
            day0 = _day(cursor[t])
            _class(gen, b, trainers[t], cohort, category, day0, certified, failed, retrain)
            cursor[t] = day0 + timedelta(days=CATS[category][0] // 8 + 2 + rng.randint(0, 3))
            made += size
        if b["spike"]:
            _spike(gen, b, certified, failed, retrain)
    gen.rows["signing_keys"] = [dict(kid=hashlib.sha256(b["id"].encode()).digest()[:8], organization_id=b["id"],
                                     purpose="certificates", public_key=os.urandom(32), private_enc=b"-",
                                     status="active", not_before=start - timedelta(days=30)) for b in bodies]
    _stage_training(gen, bodies, certified)
    _scans(gen, insp, sites, certified)
    return {"regulator": reg, "inspectorate": insp, "sites": sites, "certified": certified, "failed": failed,
            "bodies": bodies, "mill_centre": mill_centre}


def _home(rng, b) -> str:
    if b["far"]:
        return rng.choice(FAR) if rng.random() < 0.9 else PROVINCES[b["prov"]]
    return PROVINCES[b["prov"]] if rng.random() < 0.85 else rng.choice(list(PROVINCES.values()) + FAR[:1])


def _day(t: datetime) -> datetime:
    """08:00 China time on t's China day, as naive UTC."""
    local = t + CHINA
    return datetime(local.year, local.month, local.day, 8) - CHINA


def _class(gen: Gen, b, trainer, cohort, category, day0, certified, failed, retrain, force=None):
    rng = gen.rng
    hours = CATS[category][0]
    sessions = [gen.session(b["id"], trainer, day0 + timedelta(days=d), min(8, hours - 8 * d), category)
                for d in range((hours + 7) // 8)]
    atts = {w: [gen.attend(s, w) for s in sessions] for w in cohort}
    end = sessions[-1]["ends_at"]
    plan = force if force is not None else ({} if b["mill"] else _plan(gen, cohort, _limits_sittings(category, end + timedelta(days=18))))
    for w in cohort:
        fraud = plan.get(w)
        taken = end + timedelta(days=rng.randint(1, 3), hours=2)
        exams = _attempts(gen, w, b, category, taken, fraud, sessions, atts, retrain)
        passed = [e for e in exams if e["passed"]]
        if passed:
            serial = _certificate(gen, w, b, category, passed[-1], exams, atts[w])
            certified.append((w, serial, b["id"], category))
        else:
            failed.append(w)


def _limits_sittings(category: str, when: datetime) -> bool:
    """Do the rules in force then limit the sittings after a training? (Not for a special
    operation since 2026-06-01: docs/rules.md.) A third sitting is a fraud only where they do."""
    from training.catalogue import load_catalogue
    return load_catalogue().at(when).category(category).retakes_allowed is not None


def _plan(gen: Gen, cohort, limited: bool = True) -> dict:
    """Stage a few exam frauds at random in a class (answer key kept in gen.staged); copied
    papers come in pairs from the same class, so within the same month at the same centre.
    ``limited``: whether the rules limit the sittings on the day a third one would be taken (at
    most 17 days after the class: ``_attempts``), else no retake fraud is staged."""
    want = {"exam_before_training": 30, "exam_too_fast": 30, "retake_beyond_limit": 20, "identical_answers": 20}
    if not limited:
        want.pop("retake_beyond_limit")
    plan = {}
    for i, w in enumerate(cohort):
        if w in plan or gen.rng.random() >= 0.01:
            continue
        rule = next((r for r, n in want.items() if len(gen.staged[r]) < n), None)
        pair = [w, cohort[i + 1]] if rule == "identical_answers" and i + 1 < len(cohort) else [w]
        if rule is None or (rule == "identical_answers" and len(pair) < 2):
            continue
        digest = hashlib.sha256(w.encode()).hexdigest()
        for x in pair:
            plan[x] = (rule, digest)
            gen.staged[rule].add(x)
            gen.staged_workers.add(x)
    return plan


def _attempts(gen, w, b, category, taken, fraud, sessions, atts, retrain) -> list[dict]:
    rng = gen.rng
    centre = b["centre"]
    fraud, digest = fraud if fraud else (None, None)
    if b["mill"]:
        return [gen.exam(w, category, centre, taken, rng.randint(80, 83), 90)]
    if fraud == "exam_before_training":
        mid = sessions[len(sessions) // 2]["starts_at"] - timedelta(hours=1)
        return [gen.exam(w, category, centre, mid, 88, 90)]
    if fraud == "exam_too_fast":
        return [gen.exam(w, category, centre, taken, 91, 90, duration=rng.randint(8, 15))]
    if fraud == "identical_answers":
        return [gen.exam(w, category, centre, taken, 90, 90, digest=digest, wrong=5)]
    if fraud == "retake_beyond_limit":
        return [gen.exam(w, category, centre, taken, 60, 85), gen.exam(w, category, centre, taken + timedelta(days=7), 70, 85),
                gen.exam(w, category, centre, taken + timedelta(days=14), 86, 90)]
    first = gen.exam(w, category, centre, taken, min(100, round(rng.gauss(87, 7))))
    if first["passed"]:
        return [first]
    second = gen.exam(w, category, centre, taken + timedelta(days=7), min(100, round(rng.gauss(90, 6))))
    if second["passed"] or rng.random() > 0.3:
        return [first, second]
    day = _day(taken + timedelta(days=10))  # failed twice: retrained, then a third attempt (honest)
    s = retrain["days"].get((category, day))
    if s is None:
        s = retrain["days"][(category, day)] = gen.session(b["id"], retrain["trainer"], day, 8, category)
    atts[w].append(gen.attend(s, w))
    return [first, second, gen.exam(w, category, centre, day + timedelta(days=2), 92)]


def _certificate(gen, w, b, category, exam, exams, att_ids) -> str:
    from certificates import token as tok
    serial = tok.serial_text(tok.new_serial())
    issued = exam["taken_at"] + timedelta(days=gen.rng.randint(1, 4), hours=1)
    if b["spike"] and b.get("spiking"):
        issued = b["spike_day"] + timedelta(hours=gen.rng.uniform(0, 60))
    snapshot = {"required_hours": CATS[category][0], "attendance_ids": att_ids, "exam_id": exam["id"],
                "exam_ids": [e["id"] for e in exams]}
    gen.rows["certificates"].append(dict(
        serial=serial, worker_id=w, category=category, issuer_id=b["id"],
        kid=hashlib.sha256(b["id"].encode()).digest()[:8], issued_at=issued,
        valid_until=(issued + timedelta(days=6 * 365)).date(), review_due=(issued + timedelta(days=3 * 365)).date(),
        status="valid", token=b"-", qr_text="-", qr_version=10, qr_png=b"-", qr_svg=b"-",
        evidence=json.dumps(snapshot), open_findings=0, confirmed_findings=0, created_at=issued))
    return serial


def _spike(gen, b, certified, failed, retrain):
    """Eight extra classes in parallel, all certified in the same three days: a jump in issuance."""
    day0 = gen.now - timedelta(days=40)
    b["spiking"], b["spike_day"] = True, day0 + timedelta(days=20)
    for _ in range(8):
        trainer = gen.person("trainers", PROVINCES[b["prov"]], "外聘教师")
        cohort = [gen.person("workers", _home(gen.rng, b)) for _ in range(30)]
        _class(gen, b, trainer, cohort, "confined_space", _day(day0), certified, failed, retrain, force={})
    b["spiking"] = False
    gen.staged["issuance_spike"].add(b["id"])


def _stage_training(gen: Gen, bodies, certified):
    rng, rows = gen.rng, gen.rows
    by_worker = defaultdict(list)
    sessions = {s["id"]: s for s in rows["sessions"]}
    for a in rows["attendance"]:
        by_worker[a["worker_id"]].append(a)
    honest = [w for w in by_worker if w not in gen.staged_workers]
    rng.shuffle(honest)
    pick = iter(honest)
    for rule, n in (("training_overlap", 30), ("too_many_hours_in_a_day", 30)):
        for _ in range(n):
            w = next(pick)
            a = rng.choice(by_worker[w])
            s = sessions[a["session_id"]]
            body = rng.choice(bodies)["id"] if rule == "training_overlap" else s["organization_id"]
            lone = gen.person("trainers", "410102", "代课教师")
            shift = timedelta(hours=2) if rule == "training_overlap" else timedelta(hours=8)
            extra = gen.session(body, lone, s["starts_at"] + shift, 6 if rule != "training_overlap" else 4, s["category"])
            gen.attend(extra, w)
            gen.staged[rule].add(w)
            gen.staged_workers.add(w)
    size = defaultdict(int)
    for a in rows["attendance"]:
        size[a["session_id"]] += 1
    classes = [s for s in rows["sessions"] if s["category"] == "welding" and size[s["id"]] >= 25]
    for s in rng.sample(classes, 10):
        s["capacity"] = 20
        gen.staged["session_over_capacity"].add(s["id"])
    late = rng.sample([s for s in classes if s["capacity"] != 20], 10)
    for s in late:
        gen.staged["late_record"].add(s["id"])
    late_ids = {s["id"] for s in late}
    for a in rows["attendance"]:
        if a["session_id"] in late_ids:
            a["created_at"] = a["check_out"] + timedelta(days=rng.uniform(15, 30))
    for s in rng.sample([s for s in classes if s["id"] not in late_ids], 10):
        other = rng.choice([b for b in bodies if b["id"] != s["organization_id"]])
        gen.session(other["id"], s["trainer_id"], s["starts_at"] + timedelta(hours=1), 4, s["category"])
        gen.staged["trainer_double_booked"].add(s["trainer_id"])
    for b in bodies:
        if b["far"]:
            gen.staged["home_region_far"].add(b["id"])
        if b["mill"]:
            gen.staged["score_anomaly"].update({b["id"], b["centre"]})


def _scans(gen: Gen, insp, sites, certified):
    rng, now = gen.rng, gen.now
    from certificates import token as tok
    from training.people.identity import PROVINCES as CAPITALS
    certs = {c["serial"]: c for c in gen.rows["certificates"]}
    pool = [c for c in certified if c[0] not in gen.staged_workers
            and certs[c[1]]["issued_at"] < now - timedelta(days=62)]
    rng.shuffle(pool)
    picks = iter(pool)

    def scan(serial, site, at, result="valid", reasons="signature_valid registry_checked", token_hash=None):
        gen.rows["scans"].append(dict(id=gen.id(), serial=serial, token_hash=token_hash, result=result, reasons=reasons,
                                      organization_id=insp, key_id="bench", officer_name="执法人员", officer_badge="A0001",
                                      site_id=site["id"] if site else None, received_at=at, offline=0))
    near = defaultdict(list)
    for s in sites:
        near[round(s["latitude"]), round(s["longitude"])].append(s)
    for _ in range(min(3000, len(pool) // 4)):
        w, serial, body, category = next(picks)
        issued = certs[serial]["issued_at"]
        if issued > now - timedelta(days=2):
            continue
        at = issued + timedelta(days=rng.uniform(1, max(1.5, (now - issued).days - 1)))
        site = rng.choice(sites)
        scan(serial, site, at)
        if rng.random() < 0.1:  # a second site a short drive away, later that day (honest)
            other = dict(site, id=gen.id(), name=site["name"] + "二区", latitude=site["latitude"] + 0.4)  # 44 km
            gen.rows["sites"].append(other)
            scan(serial, other, at + timedelta(minutes=rng.randint(60, 150)))
    zz, gz = CAPITALS["41"], CAPITALS["44"]
    far_a = dict(sites[0], id=gen.id(), name="郑州某工地", latitude=zz.lat, longitude=zz.lon)
    far_b = dict(sites[0], id=gen.id(), name="广州某工地", latitude=gz.lat, longitude=gz.lon)
    gen.rows["sites"] += [far_a, far_b]
    for _ in range(15):  # one certificate at two places 1,300 km apart within half an hour
        w, serial, *_ = next(picks)
        at = now - timedelta(days=rng.uniform(3, 60))
        scan(serial, far_a, at)
        scan(serial, far_b, at + timedelta(minutes=30))
        gen.staged["certificate_clone"].add(serial)
        gen.staged_workers.add(w)
    for i in range(15):
        scan(None, rng.choice(sites), now - timedelta(days=i + 1), "forged", "bad_signature", os.urandom(32))
        gen.staged["forged_certificate"].add(gen.rows["scans"][-1]["id"])
    for i in range(5):
        scan(tok.serial_text(tok.new_serial()), rng.choice(sites), now - timedelta(days=i + 1), "unregistered",
             "not_in_registry signature_valid", os.urandom(32))
        gen.staged["unregistered_certificate"].add(gen.rows["scans"][-1]["id"])
    for _ in range(20):  # in class far away while scanned at work
        w, serial, body, category = next(picks)
        day = _day(now - timedelta(days=rng.randint(5, 20)))
        cap = CAPITALS["41"]
        s = gen.session(body, gen.person("trainers", "410102", "外地教师"), day, 8, category, lat=cap.lat, lon=cap.lon)
        gen.attend(s, w)
        scan(serial, rng.choice([x for x in sites if abs(x["latitude"] - cap.lat) > 2]), day + timedelta(hours=4))
        gen.staged["training_while_on_site"].add(w)
        gen.staged_workers.add(w)
    for _ in range(15):  # certificates imported with no evidence behind them
        w, serial, *_ = next(picks)
        certs[serial]["evidence"] = "{}"
        gen.staged["certificate_without_evidence"].add(serial)
        gen.staged_workers.add(w)
    gen.spare = list(picks)


def insert_all(gen: Gen) -> int:
    from training.db import db
    order = ["organizations", "signing_keys", "sites", "workers", "trainers", "sessions", "attendance", "exams",
             "certificates", "scans"]
    total = 0
    for name in order:
        rows = gen.rows.get(name, [])
        table = db.metadata.tables[name]
        for i in range(0, len(rows), 5000):
            db.session.execute(table.insert(), rows[i:i + 5000])
        total += len(rows)
    db.session.commit()
    return total


def inspections(gen: Gen, world: dict) -> None:
    """On-site checks through the live service: honest workers cleared, and staged ones found."""
    from training.accounts.api_keys import Caller
    from training.db import db
    from verify.inspections.service import record_inspection
    caller = Caller("bench", world["inspectorate"], "inspectorate", "执法总队", "执法人员", "A0001")
    certified = {c[0]: c for c in world["certified"]}
    checks = []
    for w, serial, body, category in gen.spare[:40]:
        checks.append({"id_number": gen.numbers[w], "task_role": CATS[category][1], "holder_matches": True})
    for w, serial, body, category in gen.spare[40:50]:
        checks.append({"id_number": gen.numbers[w], "task_role": CATS[category][1], "holder_matches": False})
        gen.staged["holder_mismatch"].add(w)
        gen.staged_workers.add(w)
    for w in [x for x in world["failed"] if x not in gen.staged_workers and x not in certified][:10]:
        checks.append({"id_number": gen.numbers[w], "task_role": "welder"})
        gen.staged["no_certificate_on_duty"].add(w)
        gen.staged_workers.add(w)
    record_inspection({"site_id": world["sites"][0]["id"], "started_at": gen.now - timedelta(hours=1),
                       "checks": checks}, caller)
    db.session.commit()


KEYS = {  # how a finding is matched to the staged answer key
    "trainer_double_booked": lambda f, ev: ev.get("trainer_id"),
    "session_over_capacity": lambda f, ev: ev.get("session_id"),
    "late_record": lambda f, ev: ev.get("session_id"),
    "issuance_spike": lambda f, ev: ev.get("organization_id"),
    "home_region_far": lambda f, ev: ev.get("organization_id"),
    "score_anomaly": lambda f, ev: ev.get("organization_id"),
    "forged_certificate": lambda f, ev: (ev.get("scan_ids") or [None])[0],
    "unregistered_certificate": lambda f, ev: (ev.get("scan_ids") or [None])[0],
    "certificate_clone": lambda f, ev: f.certificate_serial,
    "certificate_without_evidence": lambda f, ev: f.certificate_serial,
}


def report(gen: Gen, n_workers: int) -> dict:
    from sqlalchemy import select

    from training.db import db
    from verify.findings.models import Finding, FindingParty
    found = defaultdict(set)
    named = defaultdict(set)
    for f in db.session.scalars(select(Finding)):
        ev = json.loads(f.evidence)
        found[f.kind].add(KEYS.get(f.kind, lambda f, ev: f.worker_id)(f, ev))
    for finding_id, worker in db.session.execute(select(FindingParty.finding_id, FindingParty.party_id)
                                                 .where(FindingParty.role == "worker")):
        named[worker].add(finding_id)
    rules = sorted(k for k in gen.staged if not k.startswith("_"))
    recall = {r: (len(gen.staged[r] & found[r]), len(gen.staged[r])) for r in rules}
    honest_named = {w for w in named if w not in gen.staged_workers}
    orgs_expected = set().union(*(gen.staged[r] for r in ("issuance_spike", "home_region_far", "score_anomaly")))
    per_body = {r: sorted(found[r] - orgs_expected - {None}) for r in ("issuance_spike", "home_region_far", "score_anomaly")}
    return {"recall": recall, "honest_workers": n_workers - len(gen.staged_workers),
            "honest_named": len(honest_named), "false_body_findings": per_body, "found": {k: len(v) for k, v in found.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=20000)
    ap.add_argument("--db", default="sqlite", help="'sqlite' (a fresh file under /tmp) or a database URL")
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='fraud-history-')}/history.db" if args.db == "sqlite" else args.db
    secrets = {"ANZHENG_ID_HASH_KEY": "33" * 32, "ANZHENG_ID_ENC_KEY": "44" * 32, "ANZHENG_KEY_PASSPHRASE": "bench",
               "SECRET_KEY": "bench"}
    from wsgi import create_app
    app = create_app({**secrets, "DATABASE_URL": url, "RATE_LIMIT_VERIFY": "off", "AUDIT_CHECKPOINT_FILE": os.devnull})
    with app.app_context():
        from training.db import db
        from verify.rules.rerun import rerun
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        gen = Gen(random.Random(args.seed), datetime.utcnow().replace(microsecond=0), app.extensions["identity"])
        world = build(gen, args.workers)
        rows = insert_all(gen)
        t1 = time.perf_counter()
        inspections(gen, world)
        t2 = time.perf_counter()
        rerun()
        t3 = time.perf_counter()
        again = rerun()
        t4 = time.perf_counter()
        out = report(gen, len(gen.rows["workers"]))
    n_att = len(gen.rows["attendance"])
    print(f"history: {len(gen.rows['workers']):,} workers, {n_att:,} attendance records, {len(gen.rows['exams']):,} exams, "
          f"{len(gen.rows['certificates']):,} certificates, {len(gen.rows['scans']):,} scans ({rows:,} rows, {args.db})")
    print(f"generate + bulk insert: {t1 - t0:.1f} s; live inspections: {t2 - t1:.1f} s; "
          f"rules over history (findings-rerun): {t3 - t2:.1f} s; second run: {t4 - t3:.1f} s, raised {sum(again.values())}")
    print(f"{'rule':32} recall")
    for rule, (hit, total) in sorted(out["recall"].items()):
        print(f"{rule:32} {hit:>3}/{total:<3} {100 * hit / total:5.1f}%")
    share = 100 * out["honest_named"] / out["honest_workers"]
    print(f"false findings: {out['honest_named']} of {out['honest_workers']:,} honest workers named ({share:.2f}%; target <= 1%)")
    print(f"per-body findings on bodies without staged fraud: {out['false_body_findings']}")
    print(f"findings by kind: {dict(sorted(out['found'].items()))}")


if __name__ == "__main__":
    main()
