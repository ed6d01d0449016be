"""The regulator's console: the dashboard (findings over time, by kind, by body, the ranking by
confirmed findings per hundred certificates), organisations and their accreditation, and the API
keys of other organisations. Findings, appeals and cases are in ``console_regulator_findings``, on
the same blueprint.

Every page goes through ``accounts_guard.page`` for a person of a regulator, each gated by its
duty: the dashboard and everything about findings by ``findings``, organisations, accreditation
and keys by ``organisations`` (``training.accounts.ACTIONS``). The work is the services'
(``training.service``, ``findings_stats``), called with the signed-in person as the caller, so the
records and the audit trail name them.

Must not: write tables itself; issue or revoke a regulator's own keys (those go to persons, under
the ``accounts`` duty, so that no one hands themselves a key that skips the separation of duties);
show a full identity number.
"""
from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, flash, g, redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from certificates.models import Certificate
from training import accounts, clock
from training.account_models import AccountKey
from training.accounts_guard import install, page, refuse
from training.accounts_words import say as say_common
from training.catalogue import EMPLOYER_KINDS, ORG_KINDS, load_catalogue
from training.clock import CHINA
from training.console_pages import paged
from training.db import db
from training.errors import ApiError, Conflict, flatten
from training.i18n import t
from training.models import Accreditation, ApiKey, Organization
from training.schemas import AccreditationCreateRequestSchema, OrganizationCreateRequestSchema
from training.service import accredit, change_accreditation, create_organization, issue_api_key, revoke_api_key
from verify import findings, findings_stats
from verify.console_regulator_charts import bar_chart, column_chart
from verify.console_regulator_evidence import parties as party_rows
from verify.console_regulator_evidence import reviewer
from verify.console_regulator_words import KINDS, REFUSALS, refusal, say, template_globals
from verify.findings_models import Appeal
from verify.models import Case, Finding, FindingParty

bp = Blueprint("regulator_console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="console_regulator_static", static_url_path="/assets/regulator")
install(bp)
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


# --- the dashboard ------------------------------------------------------------------------------

@bp.get("/dashboard")
@page("findings", kinds=REG)
def dashboard():
    ranking = findings_stats.ranking()
    legend = (t("待核查", "open"), t("已认定", "confirmed"))
    weeks = findings_stats.over_time()
    by_kind = [(say(KINDS, k), o, c) for k, o, c in findings_stats.by_kind()]
    by_body = [(r["organization"]["name"], r["open_findings"], r["confirmed_findings"])
               for r in ranking if r["open_findings"] or r["confirmed_findings"]][:10]
    queue = findings_stats.queue(6)
    open_cases = db.session.scalars(select(Case).where(Case.status == "open").order_by(Case.created_at.desc())
                                    .limit(10)).all()
    return render_template(
        "console_regulator_dashboard.html", totals=findings_stats.totals(), ranking=ranking[:20], weeks=weeks,
        by_kind=by_kind, by_body=by_body, queue=queue, parties=findings.parties_of([f.id for f in queue]),
        open_cases=open_cases, home=regulator_home(),
        time_chart=column_chart(weeks, t("近12周每周新增问题线索", "Findings raised per week, last 12 weeks"), legend),
        kind_chart=bar_chart(by_kind, t("按线索类型", "Findings by kind"), legend),
        body_chart=bar_chart(by_body, t("按机构", "Findings by body"), legend))


# --- organisations ------------------------------------------------------------------------------

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


# --- other organisations' API keys --------------------------------------------------------------

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


from verify import console_regulator_findings, console_regulator_revocations  # noqa: E402,F401  (their pages)
