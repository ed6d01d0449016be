"""Small factories for test data: organisations with keys, people, sessions, exams.

Identity numbers and credit codes are generated (valid, random per call) so no test copies a
real person's number.
"""
from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

from training.people.identity import generate_credit_code, generate_id_number

RNG = random.Random(20261129)
_names = itertools.cycle(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞"])
CST = timezone(timedelta(hours=8))


class Api:
    """The test client with one organisation's key."""

    def __init__(self, client, key: str | None = None, org: dict | None = None):
        self.client, self.key, self.org = client, key, org or {}

    @property
    def id(self) -> str:
        return self.org["id"]

    def _headers(self, extra):
        h = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        h.update(extra or {})
        return h

    def post(self, path, json=None, headers=None, **kw):
        return self.client.post(path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path, json=None, headers=None):
        return self.client.patch(path, json=json, headers=self._headers(headers))

    def get(self, path, headers=None, **kw):
        return self.client.get(path, headers=self._headers(headers), **kw)

    def delete(self, path, headers=None):
        return self.client.delete(path, headers=self._headers(headers))


def ts(dt: datetime) -> str:
    return dt.isoformat()


def id_number(**kw) -> str:
    return generate_id_number(RNG, **kw)


def regulator(client, name="应急管理局") -> Api:
    from training.cli import bootstrap
    out = bootstrap(name)
    return Api(client, out["api_key"], {"id": out["organization_id"], "kind": "regulator"})


def org(reg: Api, kind: str, name: str | None = None, industry: str | None = None, **extra) -> Api:
    body = {"name": name or f"{kind}-{RNG.randrange(10**6)}", "kind": kind,
            "credit_code": generate_credit_code(RNG), **extra}
    if industry:
        body["industry"] = industry
    r = reg.post("/api/v1/organizations", body)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    k = reg.post(f"/api/v1/organizations/{made['id']}/api-keys", {})
    assert k.status_code == 201, k.get_json()
    ORGS[made["id"]] = api = Api(reg.client, k.get_json()["api_key"], made)
    return api


# Every organisation made above, by id: a placement an agency records waits for its host's
# confirmation, and the helpers that record one confirm it as the host would (``confirmed``).
ORGS: dict[str, Api] = {}


def confirmed(emp: dict) -> dict:
    """The placement ``emp`` (an employment's JSON) after its host confirmed it, if it waited."""
    if emp.get("status") != "pending":
        return emp
    r = ORGS[emp["employer_id"]].post(f"/api/v1/employments/{emp['id']}/confirm")
    assert r.status_code == 200 and r.get_json()["status"] == "active", r.get_json()
    return r.get_json()


def accredit(reg: Api, body: Api, categories, days_back=400, days_forward=800) -> dict:
    today = datetime.now(CST).date()
    r = reg.post(f"/api/v1/organizations/{body.id}/accreditations", {
        "categories": list(categories), "valid_from": str(today - timedelta(days=days_back)),
        "valid_until": str(today + timedelta(days=days_forward))})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def worker(api: Api, number: str | None = None, name: str | None = None) -> dict:
    r = api.post("/api/v1/workers", {"name": name or next(_names), "id_number": number or id_number()})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def trainer(api: Api, name: str = "孙老师") -> dict:
    r = api.post("/api/v1/trainers", {"name": name, "id_number": id_number()})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def session(api: Api, start: datetime, hours: float = 8, category: str | None = "welding",
            kind: str = "initial", trainer_id: str | None = None, capacity: int = 40, **extra) -> dict:
    body = {"kind": kind, "starts_at": ts(start), "ends_at": ts(start + timedelta(hours=hours)),
            "location": "培训中心一楼教室", "capacity": capacity, **extra}
    if category and kind != "induction":
        body["category"] = category
    if trainer_id:
        body["trainer_id"] = trainer_id
    r = api.post("/api/v1/sessions", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def enrol(api: Api, sess: dict, worker_id: str) -> dict:
    r = api.post(f"/api/v1/sessions/{sess['id']}/enrolments", {"worker_id": worker_id})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def attend(api: Api, sess: dict, worker_id: str, check_in=None, check_out=None) -> dict:
    """Record attendance, enrolling the worker first when the body did not register them itself
    (only then: the extra round trip would slow every test that trains its own trainees)."""
    body = {"worker_id": worker_id, "check_in": check_in or sess["starts_at"], "check_out": check_out or sess["ends_at"]}
    r = api.post(f"/api/v1/sessions/{sess['id']}/attendance", body)
    if r.status_code == 403 and (r.get_json().get("errors") or [{}])[0].get("code") == "not_enrolled":
        enrol(api, sess, worker_id)
        r = api.post(f"/api/v1/sessions/{sess['id']}/attendance", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def exam(api: Api, worker_id: str, taken_at: datetime, category="welding", theory=90, practical=88,
         duration=90, **extra) -> dict:
    r = api.post("/api/v1/exams", {"worker_id": worker_id, "category": category, "taken_at": ts(taken_at),
                                   "duration_minutes": duration, "theory_score": theory,
                                   "practical_score": practical, "examiner": "考评员甲", **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def days_ago(n: float, hour: int = 8) -> datetime:
    """That China day at ``hour``: with n = 0 it may still be ahead of now (early in the day)."""
    d = datetime.now(CST) - timedelta(days=n)
    return d.replace(hour=hour, minute=0, second=0, microsecond=0)


def hours_ago(n: float) -> datetime:
    """n hours before now, China time, to the minute: in the past at any hour of the day."""
    return (datetime.now(CST) - timedelta(hours=n)).replace(second=0, microsecond=0)


def train(api: Api, trainer_id: str, worker_ids, category="welding", hours=108, start_days_ago=60) -> list:
    """Enough 8-hour days of class for ``hours`` credited hours, all listed workers attending."""
    sessions = []
    day = 0
    left = hours
    while left > 0:
        span = min(8, left)
        s = session(api, days_ago(start_days_ago - day), span, category, trainer_id=trainer_id)
        for w in worker_ids:
            attend(api, s, w)
        sessions.append(s)
        left -= span
        day += 1
    return sessions


class World:
    """A regulator, an accredited training body and exam centre, and a trainer."""

    def __init__(self, client, categories=("welding", "electrician_low_voltage", "confined_space")):
        self.reg = regulator(client)
        self.body = org(self.reg, "training_body", "市安全培训学校")
        self.centre = org(self.reg, "exam_centre", "市特种作业考试中心")
        self.body_acc = accredit(self.reg, self.body, categories)
        self.centre_acc = accredit(self.reg, self.centre, categories)
        self.trainer = trainer(self.body)
