"""A finding's evidence and parties in plain words, for the regulator's console.

The evidence of a finding is ids and figures (``{"attendance_ids": [...], "overlap_minutes": 95}``);
an analyst needs to read "attendance at 郑州市安全生产培训学校, 3月1日 08:30–16:30, confined space"
and "overlap: 95 minutes". This module reads the records an id names (read-only) and labels each
figure. Workers appear by name and the masked identity number only. Scan places are movement
records: they are shown here because only a regulator's pages call this.

Must not: change anything, or show a full identity number.
"""
from __future__ import annotations

import json

from certificates.models import Certificate
from training import clock
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import db
from training.evidence.models import Attendance, Exam, TrainingSession
from training.parties.models import Organization, Site
from training.people.models import Trainer, Worker
from training.web.i18n import t
from verify.console.regulator.words import FIGURES, RECORDS, ROLES, say
from verify.findings.models import Finding
from verify.inspections.models import Inspection, InspectionCheck
from verify.verification.models import Scan

SKIP = {"intervals", "weekly", "inspection_id", "test", "n", "k", "share", "rest_share", "unregistered"}
REF_KEYS = {"attendance_ids": "attendance", "session_ids": "session", "session_id": "session", "exam_ids": "exam",
            "scan_ids": "scan", "inspection_check_ids": "inspection_check", "certificate_serial": "certificate",
            "site_id": "site", "organization_id": "organization", "trainer_id": "trainer", "signer_id": "signer"}


def when(value) -> str:
    """A UTC time (naive datetime or its text) as China time, to the minute."""
    return clock.text(value)


def category(code: str | None) -> str:
    cat = load_catalogue().category(code) if code else None
    return t(cat.name, cat.name_en) if cat else (code or "")


def _org(org_id) -> str:
    org = db.session.get(Organization, org_id) if org_id else None
    return org.name if org else t("（未知机构）", "(unknown organisation)")


def _get(model, ident):
    return db.session.get(model, ident) if isinstance(ident, str) and 0 < len(ident) <= 40 else None


def _session_text(s: TrainingSession) -> str:
    trainer = _get(Trainer, s.trainer_id)
    what = category(s.category) if s.category else t("三级安全教育", "induction")
    text = f"{_org(s.organization_id)} · {what} · {s.location} · {when(s.starts_at)}–{(s.ends_at + CHINA):%H:%M}"
    return text + (f" · {t('教师', 'trainer')} {trainer.name}" if trainer else "")


def _record(kind: str, ident: str) -> tuple[str, bool]:
    """(plain text, voided?) for one record an id names."""
    gone = t("记录已不在（可能已超过保存期限）", "the record is no longer kept (past its retention)")
    if kind == "attendance":
        a = _get(Attendance, ident)
        if a is None:
            return gone, False
        s = a.session
        return (f"{_org(s.organization_id)} · {category(s.category) if s.category else t('三级安全教育', 'induction')} · "
                f"{s.location} · {t('签到', 'in')} {when(a.check_in)} – {t('签退', 'out')} {(a.check_out + CHINA):%H:%M} · "
                f"{a.hours:g} {t('小时', 'h')}", a.voided_at is not None)
    if kind == "session":
        s = _get(TrainingSession, ident)
        return (_session_text(s), False) if s else (gone, False)
    if kind == "exam":
        e = _get(Exam, ident)
        if e is None:
            return gone, False
        result = t("合格", "passed") if e.passed else t("不合格", "failed")
        return (f"{_org(e.exam_centre_id)} · {category(e.category)} · {when(e.taken_at)} · "
                f"{t('用时', 'took')} {e.duration_minutes} {t('分钟', 'min')} · {t('理论', 'theory')} {e.theory_score:g} / "
                f"{t('实操', 'practical')} {e.practical_score:g} · {result} · {t('考评员', 'examiner')} {e.examiner}",
                e.voided_at is not None)
    if kind == "scan":
        s = _get(Scan, ident)
        if s is None:
            return gone, False
        site = _get(Site, s.site_id)
        place = site.name if site else (f"{s.latitude:.3f}, {s.longitude:.3f}" if s.latitude is not None
                                         else t("地点未记录", "place not recorded"))
        officer = " ".join(x for x in (s.officer_name, s.officer_badge) if x) or _org(s.organization_id)
        return (f"{when(s.received_at)} · {place} · {officer} · {t('核验结果', 'verdict')} {s.result}"
                + (f" {s.serial}" if s.serial else ""), False)
    if kind == "inspection_check":
        c = _get(InspectionCheck, ident)
        insp = _get(Inspection, c.inspection_id) if c else None
        if c is None or insp is None:
            return gone, False
        site = _get(Site, insp.site_id)
        role = load_catalogue().roles.get(c.task_role)
        officer = " ".join(x for x in (insp.officer_name, insp.officer_badge) if x)
        verdict = t("不能上岗", "not cleared") if c.verdict != "cleared" else t("可以上岗", "cleared")
        return (f"{when(c.at)} · {site.name if site else ''} · {officer} · {t('作业', 'task')} "
                f"{t(role.name, role.name_en) if role else c.task_role} · {c.id_masked or ''} · {verdict}", False)
    if kind == "certificate":
        c = _get(Certificate, ident)
        if c is None:
            return gone, False
        worker = _get(Worker, c.worker_id)
        return (f"{c.serial} · {category(c.category)} · {_org(c.issuer_id)} · "
                f"{worker.name + ' ' + worker.id_masked if worker else ''} · {t('状态', 'status')} {c.status}", False)
    if kind == "site":
        s = _get(Site, ident)
        return (f"{s.name}" + (f" · {_org(s.enterprise_id)}" if s.enterprise_id else ""), False) if s else (gone, False)
    if kind in ("organization", "signer"):
        return _org(ident), False
    if kind == "trainer":
        tr = _get(Trainer, ident)
        return (f"{tr.name} {tr.id_masked}", False) if tr else (gone, False)
    return ident, False


def _figure(key: str, value) -> str:
    if key == "missing_categories":
        return "、".join(category(c) for c in value or []) or "—"
    if key == "task_role":
        role = load_catalogue().roles.get(value)
        return t(role.name, role.name_en) if role else str(value)
    if key == "answers_digest":
        return f"{str(value)[:16]}…"
    if key in ("entered_at", "described_until", "seen_at", "last_training_end"):
        return when(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def describe(finding: Finding) -> dict:
    """{"figures": [(label, text)], "records": [(label, text, voided)]} for one finding."""
    evidence = json.loads(finding.evidence or "{}")
    figures, records = [], []
    for key, value in evidence.items():
        if key in REF_KEYS:
            kind = REF_KEYS[key]
            for ident in (value if isinstance(value, list) else [value]):
                if ident:
                    text, voided = _record(kind, str(ident))
                    records.append((kind, text, voided))
        elif key not in SKIP and value not in (None, "", []):
            figures.append((say(FIGURES, key) if key in FIGURES else key, _figure(key, value)))
    order = list(RECORDS)
    records.sort(key=lambda r: order.index(r[0]))
    return {"figures": figures, "records": [(say(RECORDS, k), text, voided) for k, text, voided in records]}


def parties(rows: list[dict]) -> list[dict]:
    """Parties as the pages show them: role in words, the name, a worker's masked number."""
    out = []
    for p in rows:
        masked = None
        if p["role"] in ("worker", "trainer"):
            person = _get(Worker if p["role"] == "worker" else Trainer, p["id"])
            masked = person.id_masked if person else None
        out.append({**p, "role_words": say(ROLES, p["role"]), "masked": masked,
                    "is_org": p["role"] not in ("worker", "trainer")})
    return out


def reviewer(ident: str | None) -> str:
    """Who reviewed or decided: the person (console accounts act under their own id) or the key's holder."""
    if not ident:
        return t("系统（证据被作废时自动撤回）", "the system (withdrawn when its evidence was voided)")
    from training.accounts.models import Account
    from training.parties.models import ApiKey
    account = _get(Account, ident)
    if account is not None:
        return f"{account.name}（{account.organization.name}）"
    key = _get(ApiKey, ident)
    if key is not None:
        return f"{key.holder_name or t('API 密钥', 'API key')} {key.id}（{key.organization.name}）"
    return ident
