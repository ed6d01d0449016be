"""What every console page of a training body or an exam centre stands on: the blueprint's
template filter and global, a listing cut into pages, the record a URL names
(404 when there is none or it is another organisation's), the categories an organisation is
accredited for today, and the caller and identity protector a service needs.

The pages themselves are in ``classes``, ``attendance``, ``exams`` and ``views`` beside this
module. Must not: hold a page (a route) of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request
from sqlalchemy import func, select

from training import clock
from training.accounts import service as accounts
from training.accounts.guard import own, refuse
from training.accounts.words import say
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.console import bp
from training.console.models import TrainingClass
from training.db import db, utcnow
from training.parties.models import Accreditation, AccreditationCategory
from training.web.i18n import t

BODY, CENTRE = ("training_body",), ("exam_centre",)
PER_PAGE = 25


@bp.app_template_filter("cst")
def cst(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.text(value, fmt)


@bp.app_template_global("category_name")
def category_name(code: str | None) -> str:
    cat = load_catalogue().category(code) if code else None
    return t(cat.name, cat.name_en) if cat else (code or "")


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int


def page_number() -> int:
    """The ``page`` the browser asked for: 1 when it asked for none or for nonsense."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def paged(stmt, rows: bool = False, per: int = PER_PAGE) -> Page:
    number = page_number()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per))
    number = min(number, pages)
    run = db.session.execute if rows else db.session.scalars
    items = run(stmt.limit(per).offset((number - 1) * per)).all()
    return Page(list(items), number, pages, total)


def get_by_id(model, ident: str):
    """The row of ``model`` a URL's id names, or None: an id longer than ours names none, unread."""
    return db.session.get(model, ident) if len(ident) <= 16 else None


def get_class(class_id: str) -> TrainingClass | None:
    return own(get_by_id(TrainingClass, class_id))


def record_or_404(lookup, arg: str):
    """Hand the view, in place of the URL's ``arg``, the record ``lookup`` finds for it. Where it
    finds none (no such record, or one of another organisation), the page answers 404 and the view
    never runs. Goes under ``page``, so who may see the page is settled first."""
    def decorate(view):
        @wraps(view)
        def wrapper(**args):
            found = lookup(args.pop(arg))
            if found is None:
                return refuse(404, say("not_found"))
            return view(found, **args)
        return wrapper
    return decorate


def accredited_categories(org_id: str) -> list[str]:
    today = (utcnow() + CHINA).date()
    return sorted(set(db.session.scalars(select(AccreditationCategory.category).join(Accreditation).where(
        Accreditation.organization_id == org_id, Accreditation.status == "active",
        Accreditation.valid_from <= today, Accreditation.valid_until >= today))))


def caller():
    """The signed-in person as the services' caller, so the audit trail names them."""
    return accounts.caller_for(g.account)


def protector():
    return current_app.extensions["identity"]
