"""What every page of the regulator's console stands on: who is asking, an organisation by id, the words and helpers the templates share, and the home page's counts."""
from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from training.accounts import service as accounts
from training.db import db
from training.parties.models import Organization
from verify.cases.models import Appeal, Case
from verify.console.regulator import bp
from verify.console.regulator.evidence import parties as party_rows, reviewer
from verify.console.regulator.words import template_globals
from verify.findings.models import Finding

REG = ("regulator",)


ACCREDITED_KINDS = ("training_body", "exam_centre")


@bp.context_processor
def _words():
    return {**template_globals(), "reviewer": reviewer, "party_rows": party_rows}


def caller():
    return accounts.caller_for(g.account)


def get_org(org_id: str) -> Organization | None:
    return db.session.get(Organization, org_id) if len(org_id) <= 16 else None


@bp.app_template_global("regulator_home")
def regulator_home() -> dict:
    """Counts for the console's home page of a regulator's person."""
    def count(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return {"open": count(select(Finding.id).where(Finding.status == "open")),
            "critical": count(select(Finding.id).where(Finding.status == "open", Finding.severity.in_(("critical", "high")))),
            "appeals": count(select(Appeal.id).where(Appeal.status == "pending")),
            "cases": count(select(Case.id).where(Case.status == "open")),
            "bodies": count(select(Organization.id).where(Organization.kind.in_(ACCREDITED_KINDS)))}
