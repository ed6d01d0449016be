"""Demo data: a realistic small city's worth of parties, people and a few months of training.

Everything is generated at run time: Chinese names, organisations with valid credit codes,
workers with valid identity numbers (never stored in source), classes, attendance and exams,
including a few failed papers and retakes. Used by ``flask demo`` and nowhere in production.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from training.accounts.api_keys import Caller
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import db
from training.evidence.service import record_attendance, record_exam, record_session
from training.evidence.standing import enrol
from training.parties.models import Organization
from training.parties.service import accredit, create_organization, create_site, issue_api_key
from training.people.identity import generate_credit_code, generate_id_number
from training.people.service import register_trainer, register_worker

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海波辉鹏飞宇浩然晨阳斌龙俊峰雪梅琳欣怡佳鑫亮成林东"

ORGS = [
    ("training_body", "郑州市安全生产培训学校", None, ["electrician_low_voltage", "welding", "work_at_height", "confined_space"]),
    ("training_body", "河南安泰职业技能培训中心", None, ["welding", "hazardous_chemicals", "confined_space", "electrician_high_voltage"]),
    ("training_body", "中原煤矿安全技术培训中心", None, ["coal_mine", "metal_mine", "principal_manager", "safety_manager"]),
    ("exam_centre", "郑州市特种作业操作考试中心", None, ["electrician_low_voltage", "electrician_high_voltage", "welding",
                                                "work_at_height", "confined_space", "hazardous_chemicals"]),
    ("exam_centre", "河南省煤矿安全考试中心", None, ["coal_mine", "metal_mine", "principal_manager", "safety_manager"]),
    ("enterprise", "中建七局第三建设有限公司", "construction", None),
    ("enterprise", "平顶山天安煤业股份有限公司", "coal_mine", None),
    ("enterprise", "河南心连心化学工业集团", "hazardous_chemicals", None),
    ("labour_agency", "郑州人和劳务派遣有限公司", "other", None),
    ("labour_agency", "河南众诚人力资源服务有限公司", "other", None),
    ("subcontractor", "郑州恒通建筑劳务分包有限公司", "construction", None),
    ("inspectorate", "郑州市应急管理综合行政执法支队", None, None),
]
COHORTS = [(0, "welding", 24), (0, "electrician_low_voltage", 20), (0, "work_at_height", 20), (0, "confined_space", 24),
           (1, "welding", 20), (1, "hazardous_chemicals", 22), (1, "confined_space", 18),
           (2, "coal_mine", 24), (2, "safety_manager", 12)]
IN_PROGRESS = [(0, "electrician_low_voltage", 16, 12)]  # (body, category, class size, days since start)


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _caller(org: Organization, key_id: str | None = None) -> Caller:
    return Caller(key_id or "demo", org.id, org.kind, org.name, None, None)


def load_demo(regulator: Organization, seed: int = 7, now: datetime | None = None, progress=None) -> dict:
    """Create the demo world; returns {organisation name: api key} and the ids it made."""
    rng = random.Random(seed)
    now = now or datetime.utcnow()
    cat = load_catalogue()
    reg = _caller(regulator)
    orgs, keys = [], {}
    for kind, name, industry, cats in ORGS:
        data = {"name": name, "kind": kind, "credit_code": generate_credit_code(rng), "region": "410100"}
        if industry:
            data["industry"] = industry
        org = create_organization(data)
        if cats:
            today = (now + CHINA).date()
            accredit(org, {"categories": cats, "valid_from": today - timedelta(days=700),
                           "valid_until": today + timedelta(days=1100)}, reg)
        key, full = issue_api_key(org, {"holder": {"name": "演示账号"}}, None)
        keys[name] = full
        orgs.append(org)
    bodies, centres = orgs[0:3], orgs[3:5]
    for ent, (lat, lon) in zip(orgs[5:8], ((34.75, 113.62), (33.73, 113.30), (35.30, 113.90))):
        create_site({"name": f"{ent.name[:6]}一号作业点", "latitude": lat, "longitude": lon}, _caller(ent))
    protector = _protector()
    trainers = [register_trainer({"name": chinese_name(rng), "id_number": generate_id_number(rng)}, protector, reg)[0]
                for _ in range(6)]
    made = {"workers": [], "ready": []}
    for n, (body_i, category, size) in enumerate(COHORTS):
        body, centre = bodies[body_i], centres[1 if category in ("coal_mine", "metal_mine", "safety_manager") else 0]
        workers = [register_worker({"name": chinese_name(rng), "id_number": generate_id_number(rng)}, protector, reg)[0]
                   for _ in range(size)]
        made["workers"] += [w.id for w in workers]
        start = now - timedelta(days=120 - 9 * n)
        end = _run_class(body, trainers[n % len(trainers)], category, workers, start, cat, rng)
        made["ready"] += _run_exams(centre, category, workers, end, rng, now)
        db.session.commit()
        if progress:
            progress(1)
    for body_i, category, size, days in IN_PROGRESS:  # a class still in training: nothing to issue yet
        workers = [register_worker({"name": chinese_name(rng), "id_number": generate_id_number(rng)}, protector, reg)[0]
                   for _ in range(size)]
        made["workers"] += [w.id for w in workers]
        _run_class(bodies[body_i], trainers[0], category, workers, now - timedelta(days=days), cat, rng,
                   until=now - timedelta(days=1))
        db.session.commit()
    return {"keys": keys, **made}


def _protector():
    from flask import current_app
    return current_app.extensions["identity"]


def _run_class(body, trainer, category, workers, start, cat, rng, until=None) -> datetime:
    hours = cat.category(category).initial_hours
    day = start.replace(hour=0, minute=30, second=0, microsecond=0)  # 08:30 China time
    caller = _caller(body)
    while hours > 0 and (until is None or day < until):
        span = min(8, hours)
        if (day + CHINA).weekday() < 6:
            s = record_session({"category": category, "kind": "initial", "starts_at": day,
                                "ends_at": day + timedelta(hours=span), "location": f"{body.name}第{rng.randint(1, 6)}教室",
                                "trainer_id": trainer.id, "capacity": len(workers) + 5}, caller)
            for w in workers:  # the regulator registered the demo's people: the body enrols its class
                enrol(s, w.id, caller)
                record_attendance(s, {"worker_id": w.id, "check_in": s.starts_at, "check_out": s.ends_at}, caller)
            hours -= span
        day += timedelta(days=1)
    return day


def _run_exams(centre, category, workers, after: datetime, rng, now) -> list[str]:
    caller, ready = _caller(centre), []
    taken = min(after + timedelta(days=3), now - timedelta(days=1)).replace(hour=1, minute=0)
    for w in workers:
        attempts = 2 if rng.random() < 0.12 else 1
        for i in range(attempts):
            fail = i == 0 and attempts == 2
            theory = rng.randint(60, 79) if fail else rng.randint(80, 99)
            record_exam({"worker_id": w.id, "category": category, "taken_at": taken + timedelta(days=7 * i),
                         "duration_minutes": rng.randint(45, 110), "theory_score": theory,
                         "practical_score": rng.randint(80, 98), "examiner": chinese_name(rng),
                         **_digest(rng)}, caller)
        ready.append(w.id)
    return ready


def _digest(rng) -> dict:
    wrong = sorted(f"q{rng.randint(1, 100)}:{rng.choice('ABCD')}" for _ in range(rng.randint(0, 12)))
    if not wrong:
        return {}
    import hashlib
    return {"answers_digest": hashlib.sha256("\n".join(wrong).encode()).hexdigest(), "wrong_count": len(wrong)}
