"""Notices in the employer's console: a placed worker's certificate revoked, suspended or reinstated, a finding or case that names the organisation; read one, or all."""
from __future__ import annotations

from flask import flash, redirect, render_template, request
from sqlalchemy import select

from training.accounts.guard import page, refuse
from training.console.pages import paged
from training.db import db
from training.errors import ApiError
from training.web.i18n import current_lang, t
from verify.console.employer import (  # noqa: E402,F401  (their routes, on this bp)
    bp,
    checks as console_employer_checks,
)
from verify.console.employer.pages import EMPLOYERS, caller
from verify.console.employer.words import words
from verify.employment import notices as notice_service, service as emp_service
from verify.employment.models import Employment, Notice
from verify.prestart.models import PrestartCheck
from verify.prestart.service import visible_checks


@bp.get("/notices")
@page(kinds=EMPLOYERS)
def notices():
    unread = request.args.get("show", "unread") != "all"
    listing = paged(notice_service.own_notices(caller(), unread_only=unread)
                    .order_by(Notice.created_at.desc(), Notice.id))
    emps = {e.id for e in db.session.scalars(emp_service.visible(select(Employment), caller()).where(
        Employment.id.in_({n.employment_id for n in listing.items if n.employment_id})))}
    checks = set(db.session.scalars(visible_checks(caller()).with_only_columns(PrestartCheck.id).where(
        PrestartCheck.id.in_({n.check_id for n in listing.items if n.check_id}))))
    return render_template("console_employer_notices.html", listing=listing, unread=unread, emps=emps, checks=checks,
                           english=current_lang() == "en")


@bp.post("/notices/<notice_id>/read")
@page(kinds=EMPLOYERS)
def read_notice(notice_id):
    try:
        notice_service.mark_read(notice_id, caller())
    except ApiError:
        return refuse(404, words("not_found"))
    db.session.commit()
    return redirect("/console/notices")


@bp.post("/notices/read-all")
@page(kinds=EMPLOYERS)
def read_all_notices():
    ids = db.session.scalars(notice_service.own_notices(caller(), unread_only=True)
                             .with_only_columns(Notice.id).limit(1000)).all()
    for notice_id in ids:
        notice_service.mark_read(notice_id, caller())
    db.session.commit()
    flash(t(f"已将 {len(ids)} 条通知标为已读。", f"{len(ids)} notices marked read."), "ok")
    return redirect("/console/notices")
