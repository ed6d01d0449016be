"""HTTP views of employment, pre-start checks and notices (API), and the enterprise pages.

Routes attach to the verify blueprint. API views parse, call one service function and dump. The
pages take the API key from an HttpOnly, SameSite=Strict cookie set by the sign-in form (never
from a URL), and every form carries a CSRF token; this minimal sign-in stays inside this module
until the account system replaces it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import tempfile
import zipfile
from datetime import datetime
from functools import wraps
from pathlib import Path

from flask import current_app, g, make_response, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from certificates.cli import read_rows
from certificates.service import china_today
from training import audit
from training.auth import current_caller, lookup, require
from training.catalogue import EMPLOYER_KINDS, load_catalogue
from training.db import db
from training.evidence import CHINA
from training.errors import ApiError, NotFound, TooManyRequests, Unprocessable, field_error, flatten
from training.http import idempotent, json_body, json_response, paginate, unit_of_work, write
from training.i18n import api_lang, current_lang
from training.identity import IdentityError, normalize_id_number
from training.models import Worker
from training.openapi import doc
from training.schemas import ListOf

from . import employment as emp_service
from . import notices, prestart, ratelimit
from .employment_models import Employment, Notice, PrestartCheck
from .service import verify_text
from .views import bp

API = "/api/v1"
READ_KINDS = EMPLOYER_KINDS + ("regulator",)
MAX_CREW = 1000


Reason = Schema.from_dict({"code": fields.String(), "message": fields.String()}, name="PrestartReasonSchema")
EmploymentSchema = Schema.from_dict({
    **{k: fields.String() for k in ("id", "worker_id", "employer_id", "via_id", "site_id", "role", "created_at")},
    "starts_on": fields.Date(), "ends_on": fields.Date(allow_none=True), "active": fields.Boolean(),
    "worker": fields.Dict(), "employer": fields.Dict(), "via": fields.Dict(allow_none=True)}, name="EmploymentSchema")
PrestartAnswerSchema = Schema.from_dict({
    **{k: fields.String() for k in ("id", "checked_at", "worker_id", "role", "employer_id", "starts_on")},
    "cleared": fields.Boolean(), "reasons": fields.List(fields.Nested(Reason)),
    "warnings": fields.List(fields.Nested(Reason)), "required_categories": fields.List(fields.String()),
    "certificates": fields.List(fields.Dict()),
    **{k: fields.Dict() for k in ("induction", "worker", "employer", "requested_by", "signature")}},
    name="PrestartAnswerSchema")
CrewResultSchema = Schema.from_dict({"items": fields.List(fields.Dict()), "summary": fields.Dict()},
                                    name="PrestartCrewResultSchema")
ReceiptResultSchema = Schema.from_dict({
    "valid": fields.Boolean(), "signature_valid": fields.Boolean(), "recorded": fields.Boolean(),
    "reasons": fields.List(fields.Nested(Reason)), "check": fields.Dict(allow_none=True),
    "signed_by": fields.Dict(allow_none=True)}, name="ReceiptResultSchema")
NoticeSchema = Schema.from_dict({
    **{k: fields.String() for k in ("id", "kind", "text", "worker_id", "serial", "finding_id", "check_id",
                                    "employment_id", "created_at", "read_at")},
    "read": fields.Boolean()}, name="NoticeSchema")


class CrewRequestSchema(Schema):
    """A crew: items (each as for one check, or with id_number instead of worker_id) and defaults."""
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_CREW))
    role = fields.String(validate=validate.OneOf(emp_service.ROLE_CODES))
    employer_id = emp_service.Ident()
    site_id = emp_service.Ident()
    starts_on = fields.String(validate=validate.Length(1, 10))


def _signer():
    return current_app.extensions["signer"]


# --- employments ------------------------------------------------------------------------------


@bp.post(f"{API}/employments")
@doc("Record an employment (a placement with a host)", body=emp_service.EmploymentCreateRequestSchema,
     response=EmploymentSchema, status=201, tags=["employment"], errors=("400", "409", "422"))
@require(*EMPLOYER_KINDS)
@write
@idempotent
def create_employment():
    data = emp_service.EmploymentCreateRequestSchema().load(json_body())
    return json_response(emp_service.employment_dict(emp_service.create_employment(data, current_caller())), 201)


@bp.get(f"{API}/employments")
@doc("Employments where the caller is the host or the one in between", response=ListOf[EmploymentSchema],
     tags=["employment"], errors=("400",), query={"worker_id": {"type": "string"}, "active": {"type": "boolean"}})
@require(*READ_KINDS)
def list_employments():
    stmt = emp_service.visible(select(Employment), current_caller())
    if request.args.get("worker_id"):
        stmt = stmt.where(Employment.worker_id == request.args["worker_id"])
    if request.args.get("active") in ("true", "1"):
        stmt = stmt.where(emp_service.active_on(china_today()))
    return json_response(paginate(stmt, Employment, emp_service.employment_dict))


@bp.get(f"{API}/employments/<emp_id>")
@doc("One employment", response=EmploymentSchema, tags=["employment"], errors=("404",))
@require(*READ_KINDS)
def get_employment(emp_id):
    return json_response(emp_service.employment_dict(emp_service.get_employment(emp_id, current_caller())))


@bp.patch(f"{API}/employments/<emp_id>")
@doc("End an employment", body=emp_service.EmploymentPatchRequestSchema, response=EmploymentSchema,
     tags=["employment"], errors=("400", "404", "409", "422"))
@require(*EMPLOYER_KINDS)
@write
def end_employment(emp_id):
    caller = current_caller()
    emp = emp_service.get_employment(emp_id, caller)
    data = emp_service.EmploymentPatchRequestSchema().load(json_body())
    return json_response(emp_service.employment_dict(emp_service.end_employment(emp, data, caller)))


# --- pre-start checks -------------------------------------------------------------------------


@bp.post(f"{API}/prestart-checks")
@doc("Check a hire before the first shift; the answer is recorded and signed", tags=["prestart"],
     body=prestart.PrestartCheckRequestSchema, response=PrestartAnswerSchema, errors=("400", "422"))
@require(*EMPLOYER_KINDS)
@write
@idempotent
def create_prestart_check():
    data = prestart.PrestartCheckRequestSchema().load(json_body())
    return json_response(prestart.check_hire(data, current_caller(), _signer(), api_lang())[1])


@bp.get(f"{API}/prestart-checks")
@doc("The caller's checks (and those run for it as the host), newest first", tags=["prestart"],
     response=ListOf[PrestartAnswerSchema], errors=("400",), query={"worker_id": {"type": "string"}})
@require(*EMPLOYER_KINDS)
def list_prestart_checks():
    stmt = prestart.visible_checks(current_caller())
    if request.args.get("worker_id"):
        stmt = stmt.where(PrestartCheck.worker_id == request.args["worker_id"])
    return json_response(paginate(stmt, PrestartCheck, prestart.answer_of, time_col=PrestartCheck.checked_at))


@bp.get(f"{API}/prestart-checks/<check_id>")
@doc("One recorded check, exactly as answered (the receipt)", response=PrestartAnswerSchema,
     tags=["prestart"], errors=("404",))
@require(*EMPLOYER_KINDS)
def get_prestart_check(check_id):
    return json_response(prestart.answer_of(_own_check(check_id, current_caller())))


def _own_check(check_id, caller) -> PrestartCheck:
    check = db.session.scalar(prestart.visible_checks(caller).where(PrestartCheck.id == check_id)) \
        if isinstance(check_id, str) and len(check_id) <= 16 else None
    if check is None:
        raise NotFound("No pre-start check with this id.")
    return check


def _crew_upload() -> tuple[list, dict]:
    """items and defaults from a multipart upload: a CSV or XLSX file plus form fields."""
    upload = request.files.get("file")
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    if upload is None or suffix not in (".csv", ".xlsx"):
        raise Unprocessable("Upload a CSV or XLSX file in the field 'file'.",
                            [field_error("file", "required", "A .csv or .xlsx file is required.")])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"crew{suffix}"
        upload.save(path)
        try:
            rows = read_rows(path)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as err:
            raise Unprocessable("The file could not be read.", [field_error(
                "file", "unreadable", f"Not a readable {suffix[1:].upper()} file ({type(err).__name__}).")])
    keep = ("worker_id", "id_number", "role", "employer_id", "site_id", "starts_on")
    items = [{k: row[k] for k in keep if row.get(k)} for row in rows]
    defaults = {k: request.form[k] for k in ("role", "employer_id", "site_id", "starts_on") if request.form.get(k)}
    return items, defaults


@bp.post(f"{API}/prestart-checks/batch")
@doc("Check a crew: JSON items, or a CSV/XLSX upload (multipart/form-data, field 'file')",
     body=CrewRequestSchema, response=CrewResultSchema, tags=["prestart"], errors=("400", "413", "422"))
@require(*EMPLOYER_KINDS)
@write
@idempotent
def prestart_crew():
    if request.mimetype == "multipart/form-data":
        items, defaults = _crew_upload()
        CrewRequestSchema().load({"items": items, **defaults})
    else:
        data = CrewRequestSchema().load(json_body())
        items, defaults = data.pop("items"), data
    out = prestart.check_crew(items, defaults, current_caller(), _signer(), current_app.extensions["identity"],
                              api_lang())
    return json_response(out)


@bp.post(f"{API}/prestart-checks/verify-receipt")
@doc("Check a pre-start receipt's signature and that it is the answer recorded (public)",
     response=ReceiptResultSchema, tags=["prestart"], public=True, errors=("400", "429"))
def verify_receipt():
    if current_caller() is None:
        wait = ratelimit.hit(f"receipt:{request.remote_addr}", current_app.extensions["verify_limit"])
        if wait is not None:
            raise TooManyRequests("Too many receipt checks from this client; try again shortly.",
                                  headers={"Retry-After": str(wait)})
    return json_response(prestart.check_receipt(json_body(), api_lang()))


# --- notices ----------------------------------------------------------------------------------


@bp.get(f"{API}/notices")
@doc("The caller's notices, newest first", response=ListOf[NoticeSchema], tags=["notices"], errors=("400",),
     query={"unread": {"type": "boolean"}})
@require(*EMPLOYER_KINDS)
def list_notices():
    stmt = notices.own_notices(current_caller(), request.args.get("unread") in ("true", "1"))
    lang = api_lang()
    return json_response(paginate(stmt, Notice, lambda n: notices.notice_dict(n, lang)))


@bp.post(f"{API}/notices/<notice_id>/read")
@doc("Mark a notice read", response=NoticeSchema, tags=["notices"], errors=("404",))
@require(*EMPLOYER_KINDS)
@write
def read_notice(notice_id):
    return json_response(notices.notice_dict(notices.mark_read(notice_id, current_caller()), api_lang()))


# --- pages: sign-in, the check, the receipt ---------------------------------------------------

COOKIE, CSRF_COOKIE, PAGES = "az_key", "az_csrf", "/enterprise"


def _csrf_token() -> str:
    """HMAC of a per-browser nonce (its own cookie): a page form must carry it back."""
    nonce = request.cookies.get(CSRF_COOKIE) or g.setdefault("new_csrf_nonce", secrets.token_urlsafe(24))
    return hmac.new(current_app.config["SECRET_KEY"].encode(), nonce.encode(), hashlib.sha256).hexdigest()


def _csrf_ok() -> bool:
    nonce, offered = request.cookies.get(CSRF_COOKIE), request.form.get("csrf_token", "")
    if not nonce:
        return False
    return hmac.compare_digest(_csrf_token(), offered)


def _secure() -> bool:
    return request.is_secure or current_app.config.get("ANZHENG_ENV") == "production"


def _cst(stamp: str) -> str:
    """An RFC 3339 time as China Standard Time, for reading."""
    return (datetime.fromisoformat(stamp) + CHINA).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


def _category_name(code: str) -> str:
    cat = load_catalogue().category(code)
    return (cat.name_en if current_lang() == "en" else cat.name) if cat else code


def _page(template: str, status: int = 200, **ctx):
    resp = make_response(render_template(template, csrf_token=_csrf_token(), cst=_cst,
                                         category_name=_category_name, **ctx), status)
    if "new_csrf_nonce" in g:
        resp.set_cookie(CSRF_COOKIE, g.new_csrf_nonce, httponly=True, samesite="Strict", secure=_secure(), path=PAGES)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    return resp


def _page_caller():
    key = request.cookies.get(COOKIE)
    caller = lookup(f"Bearer {key}") if key and len(key) <= 200 else None
    return caller if caller is not None and caller.kind in EMPLOYER_KINDS else None


def signed_in(view):
    """Pages for employing organisations: the key comes from the az_key cookie only."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        caller = _page_caller()
        if caller is None:
            return redirect(url_for("verify.enterprise_sign_in"))
        if request.method == "POST" and not _csrf_ok():
            return _page("enterprise_sign_in.html", 400, error="csrf", caller=None)
        return view(caller, *args, **kwargs)
    return wrapper


@bp.route(f"{PAGES}/sign-in", methods=["GET", "POST"])
@doc("Sign-in page for enterprises, agencies and subcontractors (sets the az_key cookie)",
     tags=["pages"], content_type="text/html", public=True, errors=())
def enterprise_sign_in():
    if request.method == "GET":
        return _page("enterprise_sign_in.html", caller=_page_caller(), error=None)
    if not _csrf_ok():
        return _page("enterprise_sign_in.html", 400, error="csrf", caller=None)
    key = request.form.get("api_key", "").strip()
    caller = lookup(f"Bearer {key}") if 0 < len(key) <= 200 else None
    if caller is None or caller.kind not in EMPLOYER_KINDS:
        limit = ratelimit.parse(current_app.config.get("RATE_LIMIT_AUTH_FAILURES", "20/minute"))
        wait = ratelimit.hit(f"signin:{request.remote_addr}", limit)
        if not wait:  # within the limit: kept in the audit trail, like a failed API key
            with unit_of_work():
                audit.record("auth.failed", subject=caller.key_id if caller else None,
                             detail={"client": request.remote_addr, "path": request.path})
        return _page("enterprise_sign_in.html", 429 if wait else 401, caller=None,
                     error="wait" if wait else ("kind" if caller else "key"))
    resp = redirect(url_for("verify.enterprise_prestart"))
    resp.set_cookie(COOKIE, key, httponly=True, samesite="Strict", secure=_secure(), path=PAGES)
    return resp


@bp.post(f"{PAGES}/sign-out")
@doc("Sign out of the enterprise pages", tags=["pages"], content_type="text/html", public=True, errors=())
@signed_in
def enterprise_sign_out(caller):
    resp = redirect(url_for("verify.enterprise_sign_in"))
    resp.delete_cookie(COOKIE, path=PAGES, samesite="Strict", httponly=True, secure=_secure())
    return resp


def _worker_from_form(text: str):
    """A worker from an identity number, or from a scanned certificate code (QR text)."""
    text = (text or "").strip()
    if len(text) <= 40:
        try:
            number = normalize_id_number(text)
        except IdentityError as err:
            return None, err.code
        digest = current_app.extensions["identity"].lookup_hash(number)
        worker = db.session.scalar(select(Worker).where(Worker.id_hash == digest))
        return worker, None if worker else "not_registered"
    outcome = verify_text(text, current_app.extensions["key_table"], None)
    worker = db.session.get(Worker, outcome.worker_id) if outcome.worker_id else None
    return worker, None if worker else "unknown_code"


@bp.route(f"{PAGES}/prestart", methods=["GET", "POST"])
@doc("Pre-start check page for enterprises (cookie sign-in)", tags=["pages"], content_type="text/html",
     public=True, errors=())
@signed_in
def enterprise_prestart(caller):
    roles = list(load_catalogue().roles.values())
    recent = db.session.scalars(prestart.visible_checks(caller).order_by(PrestartCheck.checked_at.desc()).limit(20)).all()
    ctx = dict(caller=caller, roles=roles, recent=[prestart.answer_of(c) for c in recent], error=None, form={})
    if request.method == "GET":
        return _page("enterprise_prestart.html", **ctx)
    form = {k: request.form.get(k, "").strip() for k in ("role", "employer_id", "starts_on")}
    worker, problem = _worker_from_form(request.form.get("who", ""))
    if worker is None:
        return _page("enterprise_prestart.html", 422, **{**ctx, "error": problem, "form": form})
    item = {"worker_id": worker.id, **{k: v for k, v in form.items() if v}}
    try:
        with unit_of_work():
            data = prestart.PrestartCheckRequestSchema().load(item)
            check, _ = prestart.check_hire(data, caller, _signer(), current_lang())
    except (ValidationError, ApiError) as err:
        errors = flatten(err.messages) if isinstance(err, ValidationError) else (err.errors or [])
        detail = err.detail if isinstance(err, ApiError) else ""
        return _page("enterprise_prestart.html", 422 if errors else getattr(err, "status", 422),
                     **{**ctx, "error": "refused", "detail": detail, "errors": errors, "form": form})
    return redirect(url_for("verify.enterprise_check", check_id=check.id), 303)


@bp.get(f"{PAGES}/prestart/<check_id>")
@doc("One pre-start answer, large (cookie sign-in)", tags=["pages"], content_type="text/html", public=True, errors=())
@signed_in
def enterprise_check(caller, check_id):
    try:
        return _page("enterprise_check.html", caller=caller, a=prestart.answer_of(_own_check(check_id, caller)))
    except NotFound:
        return _page("enterprise_check.html", 404, caller=caller, a=None)


@bp.get(f"{PAGES}/prestart/<check_id>/receipt")
@doc("Printable signed receipt of a pre-start check (cookie sign-in)", tags=["pages"], content_type="text/html",
     public=True, errors=())
@signed_in
def enterprise_receipt(caller, check_id):
    try:
        check = _own_check(check_id, caller)
    except NotFound:
        return _page("enterprise_check.html", 404, caller=caller, a=None)
    return _page("enterprise_receipt.html", caller=caller, a=prestart.answer_of(check), raw=check.answer,
                 base=current_app.config["PUBLIC_BASE_URL"])

