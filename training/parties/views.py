"""The parties' API: organisations, their API keys and accreditation, and sites..
"""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from training.accounts.api_keys import current_caller, require
from training.parties import service
from training.parties.models import Accreditation, ApiKey, Organization
from training.parties.schemas import (
    AccreditationCreateRequestSchema,
    AccreditationPatchRequestSchema,
    AccreditationSchema,
    ApiKeyCreatedSchema,
    ApiKeyCreateRequestSchema,
    OrganizationCreateRequestSchema,
    OrganizationSchema,
    SiteCreateRequestSchema,
    SiteSchema,
)
from training.web import API, bp
from training.web.fields import iso
from training.web.http import get_or_404, idempotent, json_body, json_response, paginate, write
from training.web.openapi import doc
from training.web.schemas import (
    ListOf,
)


@bp.post(f"{API}/organizations")
@doc("Register an organisation", body=OrganizationCreateRequestSchema, response=OrganizationSchema,
     status=201, tags=["organisations"], errors=("400", "409", "422"))
@require("regulator")
@write
@idempotent
def create_organization():
    data = OrganizationCreateRequestSchema().load(json_body())
    return json_response(OrganizationSchema().dump(service.create_organization(data)), 201)


@bp.get(f"{API}/organizations")
@doc("List organisations", response=ListOf[OrganizationSchema], tags=["organisations"], errors=("400",),
     query={"kind": {"type": "string"}})
@require("regulator")
def list_organizations():
    stmt = select(Organization)
    if request.args.get("kind"):
        stmt = stmt.where(Organization.kind == request.args["kind"])
    return json_response(paginate(stmt, Organization, OrganizationSchema().dump))


@bp.get(f"{API}/organizations/<org_id>")
@doc("One organisation", response=OrganizationSchema, tags=["organisations"], errors=("404",))
@require()
def get_organization(org_id):
    return json_response(OrganizationSchema().dump(get_or_404(Organization, org_id, "organisation")))


@bp.post(f"{API}/organizations/<org_id>/api-keys")
@doc("Issue an API key (shown once: a replay under the same Idempotency-Key answers the same key_id with "
     "api_key null and a detail)", body=ApiKeyCreateRequestSchema, response=ApiKeyCreatedSchema,
     status=201, tags=["organisations"], errors=("400", "404", "422"))
@require()
@write
@idempotent(secrets_in=("api_key",))
def create_api_key(org_id):
    org = get_or_404(Organization, org_id, "organisation")
    data = ApiKeyCreateRequestSchema().load(json_body())
    key, full = service.issue_api_key(org, data, current_caller())
    return json_response(ApiKeyCreatedSchema().dump({
        "key_id": key.id, "api_key": full, "organization_id": org.id, "expires_at": key.expires_at,
        "holder": {"name": key.holder_name, "badge": key.holder_badge} if key.holder_name else None}), 201)


@bp.delete(f"{API}/api-keys/<key_id>")
@doc("Revoke an API key", tags=["organisations"], errors=("404",))
@require()
@write
def revoke_api_key(key_id):
    key = service.revoke_api_key(key_id, current_caller())
    return json_response({"key_id": key.id, "revoked": True})


@bp.post(f"{API}/organizations/<org_id>/accreditations")
@doc("Accredit a training body or exam centre", body=AccreditationCreateRequestSchema,
     response=AccreditationSchema, status=201, tags=["organisations"], errors=("400", "404", "422"))
@require("regulator")
@write
@idempotent
def create_accreditation(org_id):
    org = get_or_404(Organization, org_id, "organisation")
    data = AccreditationCreateRequestSchema().load(json_body())
    return json_response(AccreditationSchema().dump(service.accredit(org, data, current_caller())), 201)


@bp.patch(f"{API}/accreditations/<acc_id>")
@doc("Suspend, withdraw or reinstate an accreditation", body=AccreditationPatchRequestSchema,
     response=AccreditationSchema, tags=["organisations"], errors=("400", "404", "409", "422"))
@require("regulator")
@write
def patch_accreditation(acc_id):
    acc = get_or_404(Accreditation, acc_id, "accreditation")
    data = AccreditationPatchRequestSchema().load(json_body())
    return json_response(AccreditationSchema().dump(service.change_accreditation(acc, data, current_caller())))


@bp.post(f"{API}/sites")
@doc("Record a work site", body=SiteCreateRequestSchema, response=SiteSchema, status=201,
     tags=["sites"], errors=("400", "422"))
@require("enterprise", "subcontractor", "inspectorate", "regulator")
@write
@idempotent
def create_site():
    data = SiteCreateRequestSchema().load(json_body())
    return json_response(SiteSchema().dump(service.create_site(data, current_caller())), 201)


@bp.get(f"{API}/api-keys")
@doc("The caller's organisation's keys (never the secrets)", tags=["organisations"], errors=("400",))
@require()
def list_api_keys():
    caller = current_caller()
    stmt = select(ApiKey).where(ApiKey.organization_id == caller.org_id)
    return json_response(paginate(stmt, ApiKey, lambda k: {
        "key_id": k.id, "holder": {"name": k.holder_name, "badge": k.holder_badge},
        "created_at": iso(k.created_at), "expires_at": iso(k.expires_at),
        "revoked": k.revoked_at is not None}))
