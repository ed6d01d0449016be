"""HTTP views of findings, appeals, cases, inspections and bulk revocations (on ``verify.verification.views.bp``).

Only regulators read findings and cases. Parties named in a finding may appeal it; the worker may
appeal without a key by proving who they are. Each view parses with a schema, calls one service
function in one transaction, and dumps the audience's shape.
"""
from __future__ import annotations

from flask import Response, request
from marshmallow import ValidationError
from sqlalchemy import select

from training.accounts.api_keys import current_caller, require
from training.db import db
from training.errors import BadRequest, NotFound, Unauthorized
from training.web.http import idempotent, json_body, json_response, paginate, write
from training.web.i18n import api_lang
from training.web.openapi import doc
from training.web.schemas import ListOf
from verify.cases import appeals, service as cases
from verify.cases.models import Appeal, BulkRevocation, Case
from verify.findings import service as findings, stats as findings_stats
from verify.findings.models import Finding
from verify.findings.schemas import (
    FINDING_QUERY,
    AppealPatchRequestSchema,
    AppealRequestSchema,
    AppealSchema,
    CaseCreateRequestSchema,
    CasePatchRequestSchema,
    CaseSchema,
    FindingPatchRequestSchema,
    FindingSchema,
    InspectionCreateRequestSchema,
    InspectionSchema,
    RankingSchema,
    RevocationRequestSchema,
    RevocationSchema,
    StatementRequestSchema,
    StatementSchema,
)
from verify.inspections import service as inspections
from verify.inspections.models import Inspection
from verify.web import bp

API = "/api/v1"
PARTY_KINDS = ("training_body", "exam_centre", "enterprise", "labour_agency", "subcontractor")


def _finding(finding_id) -> Finding:
    found = db_get(Finding, finding_id)
    if found is None:
        raise NotFound("No such finding.")
    return found


def db_get(model, ident):
    return db.session.get(model, ident) if isinstance(ident, str) and len(ident) <= 16 else None


def _dump_findings(page: dict) -> dict:
    parties = findings.parties_of([f.id for f in page["items"]])
    return {"items": [findings.dump_finding(f, parties[f.id]) for f in page["items"]], "next_cursor": page["next_cursor"]}


@bp.get(f"{API}/findings")
@doc("Findings, newest first, with filters", response=ListOf[FindingSchema], tags=["findings"], query=FINDING_QUERY,
     errors=("400",))
@require("regulator")
def list_findings():
    stmt = findings.finding_query(**{k: request.args.get(k) for k in FINDING_QUERY})
    return json_response(_dump_findings(paginate(stmt, Finding, lambda f: f)))


@bp.get(f"{API}/findings/ranking")
@doc("Training bodies and exam centres ranked by confirmed findings per hundred certificates",
     response=RankingSchema, tags=["findings"], query={"kind": {"type": "string", "enum": ["training_body", "exam_centre"]}},
     errors=("400",))
@require("regulator")
def findings_ranking():
    kind = request.args.get("kind")
    if kind not in (None, "training_body", "exam_centre"):
        raise BadRequest("kind is training_body or exam_centre.")
    return json_response({"items": findings_stats.ranking(kind)})


@bp.get(f"{API}/findings/<finding_id>")
@doc("One finding with its evidence and parties", response=FindingSchema, tags=["findings"], errors=("404",))
@require("regulator")
def get_finding(finding_id):
    f = _finding(finding_id)
    return json_response(findings.dump_finding(f, findings.parties_of([f.id])[f.id]))


@bp.patch(f"{API}/findings/<finding_id>")
@doc("Confirm or dismiss a finding, with the reason", body=FindingPatchRequestSchema, response=FindingSchema,
     tags=["findings"], errors=("400", "404", "409", "422"))
@require("regulator")
@write
def review_finding(finding_id):
    f = _finding(finding_id)
    data = FindingPatchRequestSchema().load(json_body())
    findings.review_finding(f, data["status"], data["reason"], current_caller())
    return json_response(findings.dump_finding(f, findings.parties_of([f.id])[f.id]))


# --- appeals -----------------------------------------------------------------------------------

@bp.post(f"{API}/appeals")
@doc("Appeal a finding: a named party with its key, or the worker without one (serial + id_number)",
     body=AppealRequestSchema, response=AppealSchema, status=201, tags=["appeals"],
     errors=("400", "401", "403", "404", "409", "422", "429"))
@write
def create_appeal():
    if request.headers.get("Authorization"):
        caller = current_caller()
        if caller is None:
            raise Unauthorized("The API key is not valid; a worker appeals without one.")
        return idempotent(_party_appeal)()
    data = AppealRequestSchema().load(json_body())
    if not data.get("serial") or not data.get("id_number"):
        raise ValidationError({f: ["[required] Without a key, the worker proves who they are with serial and id_number."]
                               for f in ("serial", "id_number") if not data.get(f)})
    appeal = appeals.lodge_worker_appeal(data, request.remote_addr or "-")
    return json_response(appeals.dump_appeal(appeal, full=False), 201)


def _party_appeal():
    data = AppealRequestSchema(only=("finding_id", "explanation")).load(json_body())
    appeal = appeals.lodge_party_appeal(data, current_caller())
    return json_response(appeals.dump_appeal(appeal, full=False), 201)


@bp.get(f"{API}/appeals")
@doc("Appeals, newest first", response=ListOf[AppealSchema], tags=["appeals"], errors=("400",),
     query={"status": {"type": "string", "enum": ["pending", "upheld", "rejected"]}, "finding_id": {"type": "string"}})
@require("regulator")
def list_appeals():
    stmt = appeals.appeal_query(request.args.get("status"), request.args.get("finding_id"))
    return json_response(paginate(stmt, Appeal, appeals.dump_appeal))


@bp.patch(f"{API}/appeals/<appeal_id>")
@doc("Uphold (dismissing the finding) or reject an appeal", body=AppealPatchRequestSchema, response=AppealSchema,
     tags=["appeals"], errors=("400", "404", "409", "422"))
@require("regulator")
@write
def decide_appeal(appeal_id):
    appeal = appeals.get_appeal(appeal_id)
    data = AppealPatchRequestSchema().load(json_body())
    return json_response(appeals.dump_appeal(appeals.decide_appeal(appeal, data["decision"], data["reason"],
                                                                   current_caller())))


# --- cases -------------------------------------------------------------------------------------

@bp.post(f"{API}/cases")
@doc("Open a case from confirmed findings; parties resolved now", body=CaseCreateRequestSchema, response=CaseSchema,
     status=201, tags=["cases"], errors=("400", "409", "422"))
@require("regulator")
@write
@idempotent
def create_case():
    data = CaseCreateRequestSchema().load(json_body())
    return json_response(cases.dump_case(cases.open_case(data["finding_ids"], current_caller())), 201)


@bp.get(f"{API}/cases")
@doc("Cases, newest first", response=ListOf[CaseSchema], tags=["cases"], errors=("400",),
     query={"status": {"type": "string", "enum": ["open", "confirmed", "dismissed"]}})
@require("regulator")
def list_cases():
    stmt = select(Case)
    if request.args.get("status"):
        stmt = stmt.where(Case.status == request.args["status"])
    return json_response(paginate(stmt, Case, lambda c: cases.dump_case(c, full=False)))


@bp.get(f"{API}/cases/<case_id>")
@doc("One case: parties, findings, statements, revocations", response=CaseSchema, tags=["cases"], errors=("404",))
@require("regulator")
def get_case(case_id):
    return json_response(cases.dump_case(cases.get_case(case_id)))


@bp.patch(f"{API}/cases/<case_id>")
@doc("Confirm (revoking certificates resting on fake evidence) or dismiss a case", body=CasePatchRequestSchema,
     response=CaseSchema, tags=["cases"], errors=("400", "404", "409", "422"))
@require("regulator")
@write
def decide_case(case_id):
    case = cases.get_case(case_id)
    data = CasePatchRequestSchema().load(json_body())
    cases.decide_case(case, data["status"], data["reason"], current_caller())
    return json_response(cases.dump_case(case))


@bp.post(f"{API}/cases/<case_id>/statements")
@doc("Record a party's statement (a party's own key, or a regulator for any party)", body=StatementRequestSchema,
     response=StatementSchema, status=201, tags=["cases"], errors=("400", "404", "409", "422"))
@require("regulator", *PARTY_KINDS)
@write
@idempotent
def create_statement(case_id):
    s = cases.add_statement(cases.get_case(case_id), StatementRequestSchema().load(json_body()), current_caller())
    return json_response(StatementSchema().dump(s), 201)


# --- inspections and bulk revocation ------------------------------------------------------------

@bp.post(f"{API}/inspections")
@doc("Record an on-site inspection: a verdict per person checked", body=InspectionCreateRequestSchema,
     response=InspectionSchema, status=201, tags=["inspections"], errors=("400", "409", "422"))
@require("inspectorate")
@write
@idempotent
def create_inspection():
    data = InspectionCreateRequestSchema().load(json_body())
    insp = inspections.record_inspection(data, current_caller())
    return json_response(inspections.dump_inspection(insp, api_lang()), 201)


def _inspection(insp_id) -> Inspection:
    insp, caller = db_get(Inspection, insp_id), current_caller()
    if insp is None or (caller.kind != "regulator" and insp.organization_id != caller.org_id):
        raise NotFound("No such inspection.")
    return insp


@bp.get(f"{API}/inspections")
@doc("The caller's inspections (all, for a regulator)", response=ListOf[InspectionSchema], tags=["inspections"],
     errors=("400",))
@require("inspectorate", "regulator")
def list_inspections():
    stmt, caller = select(Inspection), current_caller()
    if caller.kind != "regulator":
        stmt = stmt.where(Inspection.organization_id == caller.org_id)
    return json_response(paginate(stmt, Inspection, lambda i: inspections.dump_inspection(i, api_lang())))


@bp.get(f"{API}/inspections/<insp_id>")
@doc("One inspection with its checks", response=InspectionSchema, tags=["inspections"], errors=("404",))
@require("inspectorate", "regulator")
def get_inspection(insp_id):
    return json_response(inspections.dump_inspection(_inspection(insp_id), api_lang()))


@bp.get(f"{API}/inspections/<insp_id>.pdf")
@doc("The inspection record as PDF (officers' names and badges; masked identity numbers)",
     content_type="application/pdf", tags=["inspections"], errors=("404",))
@require("inspectorate", "regulator")
def inspection_pdf(insp_id):
    pdf = inspections.render_pdf(inspections.dump_inspection(_inspection(insp_id), "zh"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="inspection-{insp_id}.pdf"', "Cache-Control": "private, no-store"})


@bp.post(f"{API}/revocations")
@doc("Revoke every certificate a training body issued in a period, with a report", body=RevocationRequestSchema,
     response=RevocationSchema, status=201, tags=["cases"], errors=("400", "409", "422"))
@require("regulator")
@write
@idempotent
def create_revocation():
    data = RevocationRequestSchema().load(json_body())
    return json_response(cases.dump_revocation(cases.revoke_issued(data, current_caller())), 201)


@bp.get(f"{API}/revocations/<batch_id>")
@doc("One bulk revocation and its report", response=RevocationSchema, tags=["cases"], errors=("404",))
@require("regulator")
def get_revocation(batch_id):
    batch = db_get(BulkRevocation, batch_id)
    if batch is None:
        raise NotFound("No such revocation.")
    return json_response(cases.dump_revocation(batch))
