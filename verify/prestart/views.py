"""HTTP views of employment, pre-start checks and notices (the API).

Routes attach to the verify blueprint. API views parse, call one service function and dump. The
pages people use are the console's (``console_employer_views``, signed in as themselves); the old
``/enterprise`` addresses only redirect there.
"""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from flask import current_app, redirect, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from certificates.cli import read_rows
from training import clock
from training.accounts.api_keys import current_caller, require
from training.catalogue import EMPLOYER_KINDS
from training.db import db
from training.errors import NotFound, TooManyRequests, Unprocessable, field_error
from training.web.http import idempotent, json_body, json_response, paginate, write
from training.web.i18n import api_lang
from training.web.openapi import doc
from training.web.schemas import ListOf
from verify.employment import notices, service as emp_service
from verify.employment.models import Employment, Notice
from verify.prestart import service as prestart
from verify.prestart.models import PrestartCheck
from verify.web import bp, ratelimit

API = "/api/v1"
READ_KINDS = EMPLOYER_KINDS + ("regulator",)
MAX_CREW = 1000


Reason = Schema.from_dict({"code": fields.String(), "message": fields.String()}, name="PrestartReasonSchema")
EmploymentSchema = Schema.from_dict({
    **{k: fields.String() for k in ("id", "worker_id", "employer_id", "via_id", "site_id", "role", "created_at")},
    "starts_on": fields.Date(), "ends_on": fields.Date(allow_none=True), "active": fields.Boolean(),
    "status": fields.String(validate=validate.OneOf(("active", "pending"))),
    "worker": fields.Dict(), "employer": fields.Dict(), "via": fields.Dict(allow_none=True)}, name="EmploymentSchema")
PrestartAnswerSchema = Schema.from_dict({
    **{k: fields.String() for k in ("id", "checked_at", "worker_id", "role", "employer_id", "starts_on")},
    "cleared": fields.Boolean(), "reasons": fields.List(fields.Nested(Reason)),
    "warnings": fields.List(fields.Nested(Reason)), "required_categories": fields.List(fields.String()),
    "certificates": fields.List(fields.Dict()),
    # National licences recorded for the role's categories (docs/credentials.md), masked.
    "licences": fields.List(fields.Dict()),
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
        stmt = stmt.where(emp_service.active_on(clock.today()))
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


@bp.post(f"{API}/employments/<emp_id>/confirm")
@doc("Confirm, as the host, a placement an agency or subcontractor recorded", response=EmploymentSchema,
     tags=["employment"], errors=("404", "409"))
@require(*EMPLOYER_KINDS)
@write
def confirm_employment(emp_id):
    caller = current_caller()
    emp = emp_service.get_employment(emp_id, caller)
    return json_response(emp_service.employment_dict(emp_service.confirm_employment(emp, caller)))


# --- pre-start checks -------------------------------------------------------------------------


@bp.post(f"{API}/prestart-checks")
@doc("Check a hire before the first shift; the answer is recorded and signed", tags=["prestart"],
     body=prestart.PrestartCheckRequestSchema, response=PrestartAnswerSchema, errors=("400", "422"))
@require(*EMPLOYER_KINDS)
@write
@idempotent
def create_prestart_check():
    data = prestart.PrestartCheckRequestSchema().load(json_body())
    return json_response(prestart.check_hire(data, current_caller(), api_lang())[1])


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
                "file", "unreadable", f"Not a readable {suffix[1:].upper()} file: "
                + (str(err)[:200] if isinstance(err, ValueError) and str(err) else type(err).__name__) + ".")]) from err
    keep = ("worker_id", "id_number", "name", "role", "employer_id", "site_id", "starts_on")
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
    out = prestart.check_crew(items, defaults, current_caller(), current_app.extensions["identity"],
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
@require(*EMPLOYER_KINDS, "training_body", "exam_centre")  # bodies and centres hear of their cases
def list_notices():
    stmt = notices.own_notices(current_caller(), request.args.get("unread") in ("true", "1"))
    lang = api_lang()
    return json_response(paginate(stmt, Notice, lambda n: notices.notice_dict(n, lang)))


@bp.post(f"{API}/notices/<notice_id>/read")
@doc("Mark a notice read", response=NoticeSchema, tags=["notices"], errors=("404",))
@require(*EMPLOYER_KINDS, "training_body", "exam_centre")
@write
def read_notice(notice_id):
    return json_response(notices.notice_dict(notices.mark_read(notice_id, current_caller()), api_lang()))


# --- the old enterprise pages -------------------------------------------------------------------

# People sign in to the console now (console_employer_views); the pages that once took an API key
# in a cookie are gone. Their addresses send the browser to the console's pages and drop the old
# cookies, so no API key lingers in a browser.
RETIRED = {"": "/console/prestart", "sign-in": "/console/sign-in", "prestart": "/console/prestart"}


@bp.get("/enterprise", defaults={"rest": ""})
@bp.get("/enterprise/<path:rest>")
def enterprise_moved(rest):
    parts = rest.strip("/").split("/")
    target = RETIRED.get("/".join(parts), "/console/")
    if parts[0] == "prestart" and len(parts) in (2, 3) and parts[1].isalnum() and len(parts[1]) <= 16 \
            and parts[-1] in (parts[1], "receipt"):
        target = "/console/prestart/" + "/".join(parts[1:])
    resp = redirect(target, 301)
    for cookie in ("az_key", "az_csrf"):
        if cookie in request.cookies:
            resp.delete_cookie(cookie, path="/enterprise", httponly=True, samesite="Strict")
    return resp
