"""Organisations in the regulator's console: the list, registering one, one organisation with its accreditations (granted, suspended, withdrawn) and the API keys issued to it."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import flash, g, redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from certificates.models import Certificate
from training import clock
from training.accounts import service as accounts
from training.accounts.guard import page, refuse
from training.accounts.models import AccountKey
from training.accounts.words import say as say_common
from training.catalogue import EMPLOYER_KINDS, ORG_KINDS, load_catalogue
from training.clock import CHINA
from training.console.pages import paged
from training.db import db
from training.errors import ApiError, Conflict, flatten
from training.parties.models import Accreditation, ApiKey, Organization
from training.parties.schemas import AccreditationCreateRequestSchema, OrganizationCreateRequestSchema
from training.parties.service import (
    accredit,
    change_accreditation,
    create_organization,
    issue_api_key,
    revoke_api_key,
)
from training.web.i18n import t
from verify.console.regulator import (  # noqa: E402,F401  (their pages)
    bp,
    findings as console_regulator_findings,
)
from verify.console.regulator.pages import ACCREDITED_KINDS, REG, caller, get_org
from verify.console.regulator.words import REFUSALS, refusal
from verify.findings.models import Finding, FindingParty


def _listing():
    q, kind = request.args.get("q", "").strip()[:100], request.args.get("kind", "")
    today = clock.today()
    keys = select(func.count()).where(ApiKey.organization_id == Organization.id,
                                      ApiKey.revoked_at.is_(None)).scalar_subquery()
    live = select(func.count()).where(Accreditation.organization_id == Organization.id, Accreditation.status == "active",
                                      Accreditation.valid_from <= today, Accreditation.valid_until >= today).scalar_subquery()
    stmt = select(Organization, keys, live)
    if q:
        stmt = stmt.where(or_(Organization.name.contains(q), Organization.credit_code == q.upper()))
    if kind in ORG_KINDS:
        stmt = stmt.where(Organization.kind == kind)
    return paged(stmt.order_by(Organization.kind, Organization.name), rows=True), q, kind


def _organisations_page(form=None, errors=(), status=200):
    listing, q, kind = _listing()
    return render_template("console_regulator_organisations.html", listing=listing, q=q, kind=kind, kinds=ORG_KINDS,
                           industries=sorted(load_catalogue().industries), employer_kinds=EMPLOYER_KINDS,
                           form=form or {}, errors=errors), status


@bp.get("/organisations")
@page("organisations", kinds=REG)
def organisations():
    return _organisations_page()


ORG_FIELD_CODES = {"name": "name_required", "kind": "kind_invalid", "region": "region_invalid",
                   "industry": "industry_employers"}


def _org_errors(err: ValidationError) -> list[str]:
    out = []
    for e in flatten(err.messages):
        if e["field"] == "credit_code":
            out.append(refusal(e["code"] if e["code"] in REFUSALS else "credit_code_format"))
        else:
            out.append(refusal(ORG_FIELD_CODES.get(e["field"], "kind_invalid")))
    return list(dict.fromkeys(out))


@bp.post("/organisations")
@page("organisations", kinds=REG)
def register_organisation():
    form = {k: request.form.get(k, "").strip()[:300] for k in ("name", "kind", "credit_code", "region", "industry")}
    data = {k: v for k, v in form.items() if v and not (k == "industry" and form["kind"] not in EMPLOYER_KINDS)}
    if form["kind"] == "regulator":  # the regulator is made by ``flask bootstrap``, not from a page
        return _organisations_page(form, [refusal("kind_invalid")], 422)
    try:
        org = create_organization(OrganizationCreateRequestSchema().load(data))
    except ValidationError as err:
        return _organisations_page(form, _org_errors(err), 422)
    except Conflict:
        return _organisations_page(form, [refusal("credit_code_taken")], 409)
    accounts.record(g.account, "console.organisation_registered", org.id, kind=org.kind)
    db.session.commit()
    flash(t(f"已登记 {org.name}。", f"{org.name} registered."), "ok")
    return redirect(f"/console/organisations/{org.id}")


def accreditation_state(acc: Accreditation, today: date) -> str:
    if acc.status != "active":
        return acc.status
    if acc.valid_until < today:
        return "expired"
    return "pending" if acc.valid_from > today else "active"


@bp.get("/organisations/<org_id>")
@page("organisations", kinds=REG)
def organisation(org_id):
    org = get_org(org_id)
    if org is None:
        return refuse(404, say_common("not_found"))
    accs = db.session.scalars(select(Accreditation).where(Accreditation.organization_id == org.id)
                              .order_by(Accreditation.created_at.desc())).all()
    keys = db.session.execute(select(ApiKey, AccountKey.label).outerjoin(AccountKey, AccountKey.key_id == ApiKey.id)
                              .where(ApiKey.organization_id == org.id).order_by(ApiKey.created_at.desc())).all()
    named = select(FindingParty.finding_id).where(FindingParty.party_id == org.id)
    counts = dict(db.session.execute(select(Finding.status, func.count()).where(Finding.id.in_(named))
                                     .group_by(Finding.status)).all())
    issued = db.session.scalar(select(func.count()).where(Certificate.issuer_id == org.id))
    today = clock.today()
    return render_template("console_regulator_organisation.html", org=org, accs=accs, keys=keys, counts=counts,
                           issued=issued, today=today, live_keys=sum(k.revoked_at is None for k, _ in keys), now=datetime.utcnow(), state=accreditation_state,
                           categories=sorted(load_catalogue().categories.values(), key=lambda c: c.token_code),
                           accreditable=org.kind in ACCREDITED_KINDS, own_keys=org.kind == "regulator",
                           default_until=today.replace(year=today.year + 3))


def _back(org: Organization, message: str, style: str = "ok"):
    flash(message, style)
    return redirect(f"/console/organisations/{org.id}")


@bp.post("/organisations/<org_id>/accreditations")
@page("organisations", kinds=REG)
def grant(org_id):
    org = get_org(org_id)
    if org is None:
        return refuse(404, say_common("not_found"))
    if org.kind not in ACCREDITED_KINDS:
        return _back(org, refusal("not_accreditable"), "bad")
    data = {"categories": request.form.getlist("categories")[:50], "valid_from": request.form.get("valid_from", ""),
            "valid_until": request.form.get("valid_until", "")}
    try:
        acc = accredit(org, AccreditationCreateRequestSchema().load(data), caller())
    except ValidationError as err:
        fields = {e["field"].split(".")[0] for e in flatten(err.messages)}
        return _back(org, refusal("choose_categories" if "categories" in fields else "bad_dates"), "bad")
    accounts.record(g.account, "console.accreditation_granted", acc.id, organization_id=org.id)
    db.session.commit()
    return _back(org, t("已授予资质。", "Accreditation granted."))


@bp.post("/accreditations/<acc_id>")
@page("organisations", kinds=REG)
def change(acc_id):
    acc = db.session.get(Accreditation, acc_id) if len(acc_id) <= 16 else None
    if acc is None:
        return refuse(404, say_common("not_found"))
    org = db.session.get(Organization, acc.organization_id)
    status, reason = request.form.get("status", ""), request.form.get("reason", "").strip()
    if status not in ("active", "suspended", "withdrawn"):
        return _back(org, refusal("choose_status"), "bad")
    if not reason or len(reason) > 1000:
        return _back(org, refusal("reason_required" if not reason else "reason_long"), "bad")
    if status == acc.status:
        return _back(org, refusal("already"), "warn")
    try:
        change_accreditation(acc, {"status": status, "reason": reason}, caller())
    except Conflict:
        return _back(org, refusal("withdrawn_final"), "bad")
    accounts.record(g.account, "console.accreditation_changed", acc.id, status=status)
    db.session.commit()
    words = {"active": t("资质已恢复。", "Accreditation reinstated."), "suspended": t("资质已暂停。", "Accreditation suspended."),
             "withdrawn": t("资质已撤销。", "Accreditation withdrawn.")}
    return _back(org, words[status])


def _expiry(text: str) -> datetime | None:
    """The end of the chosen day, China time, as naive UTC; None for no expiry."""
    if not text:
        return None
    return datetime.combine(date.fromisoformat(text), time(23, 59, 59)) - CHINA


@bp.post("/organisations/<org_id>/keys")
@page("organisations", kinds=REG)
def issue_key(org_id):
    org = get_org(org_id)
    if org is None:
        return refuse(404, say_common("not_found"))
    if org.kind == "regulator":
        return _back(org, refusal("regulator_keys"), "bad")
    name, badge = request.form.get("holder_name", "").strip()[:100], request.form.get("holder_badge", "").strip()[:50]
    if not name:
        return _back(org, refusal("holder_required"), "bad")
    try:
        expires = _expiry(request.form.get("expires_on", "").strip())
        key, full = issue_api_key(org, {"holder": {"name": name, **({"badge": badge} if badge else {})},
                                        "expires_at": expires}, caller())
    except (ValueError, ApiError):
        return _back(org, refusal("expiry_past"), "bad")
    accounts.record(g.account, "console.org_key_issued", key.id, organization_id=org.id)
    db.session.commit()
    return render_template("console_regulator_key_once.html", org=org, key=key, full=full), 201


@bp.post("/organisations/<org_id>/keys/<key_id>/revoke")
@page("organisations", kinds=REG)
def revoke_key(org_id, key_id):
    key = db.session.get(ApiKey, key_id) if len(key_id) <= 16 else None
    if key is None or key.organization_id != org_id:
        return refuse(404, say_common("not_found"))
    org = db.session.get(Organization, key.organization_id)
    if org.kind == "regulator":
        return _back(org, refusal("regulator_keys"), "bad")
    if key.revoked_at is None:
        revoke_api_key(key.id, caller())
        accounts.record(g.account, "console.org_key_revoked", key.id, organization_id=org.id)
        db.session.commit()
    return _back(org, t(f"密钥 {key.id} 已吊销，立即失效。", f"Key {key.id} revoked; it stops working at once."))
