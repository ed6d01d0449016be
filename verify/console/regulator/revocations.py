"""The regulator's console: revoking, in one action, every certificate a training body issued in a
period (as schemes abroad cancel every card from a fraudulent test centre), and the report of each
such action. An enforcement decision like a case's, so it needs the ``findings`` duty.

Routes attach to ``console_regulator_views.bp``; the work is ``cases.revoke_issued`` with the
signed-in person as the caller (each certificate's revocation goes through the certificates
layer, with its events and audit trail).

Must not: revoke anything on a GET, or without a reason and a period.
"""
from __future__ import annotations

import json

from flask import flash, redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import select

from certificates.models import Certificate
from training.accounts.guard import page, refuse
from training.accounts.words import say as say_common
from training.console.pages import paged
from training.db import db
from training.errors import ApiError
from training.parties.models import Organization
from training.web.i18n import t
from verify.cases import service as cases
from verify.cases.models import BulkRevocation, Case
from verify.console.regulator import bp
from verify.console.regulator.pages import REG, caller
from verify.console.regulator.words import refusal
from verify.findings.schemas import RevocationRequestSchema


def _page(form=None, status=200):
    bodies = db.session.scalars(select(Organization).where(Organization.kind == "training_body")
                                .order_by(Organization.name)).all()
    open_cases = db.session.scalars(select(Case).where(Case.status != "dismissed").order_by(Case.created_at.desc())
                                    .limit(50)).all()
    listing = paged(select(BulkRevocation).order_by(BulkRevocation.created_at.desc()))
    names = {o.id: o.name for o in bodies}
    return render_template("console_regulator_revocations.html", bodies=bodies, cases=open_cases, listing=listing,
                           names=names, counts={b.id: _counts(b) for b in listing.items}, form=form or {}), status


def _counts(batch: BulkRevocation) -> tuple[int, int]:
    report = json.loads(batch.report or "{}")
    return len(report.get("revoked", [])), len(report.get("skipped", []))


@bp.get("/revocations")
@page("findings", kinds=REG)
def revocations():
    return _page({"issuer_id": request.args.get("issuer", "")[:16], "case_id": request.args.get("case", "")[:16]})


@bp.post("/revocations")
@page("findings", kinds=REG)
def revoke_period():
    form = {k: request.form.get(k, "").strip()[:1000] for k in ("issuer_id", "issued_from", "issued_until", "reason",
                                                                  "case_id")}
    data = {k: v for k, v in form.items() if v}
    try:
        batch = cases.revoke_issued(RevocationRequestSchema().load(data), caller())
    except ValidationError as err:
        fields = set(err.messages)
        flash(refusal("reason_required" if "reason" in fields else
                      "bad_dates" if fields & {"issued_from", "issued_until"} else "choose_body"), "bad")
        return _page(form, 422)
    except ApiError:
        db.session.rollback()
        flash(refusal("choose_body"), "bad")
        return _page(form, 422)
    db.session.commit()
    revoked, skipped = _counts(batch)
    flash(t(f"已撤销 {revoked} 张证书，跳过 {skipped} 张（已撤销或已过期）。",
            f"{revoked} certificates revoked, {skipped} skipped (already revoked or expired)."), "ok")
    return redirect(f"/console/revocations/{batch.id}")


@bp.get("/revocations/<batch_id>")
@page("findings", kinds=REG)
def revocation(batch_id):
    batch = db.session.get(BulkRevocation, batch_id) if len(batch_id) <= 16 else None
    if batch is None:
        return refuse(404, say_common("not_found"))
    report = cases.dump_revocation(batch)
    certs = {c.serial: c for c in db.session.scalars(select(Certificate).where(
        Certificate.serial.in_(report["revoked"] + [s["serial"] for s in report["skipped"]])))}
    return render_template("console_regulator_revocation.html", batch=batch, report=report, certs=certs)
