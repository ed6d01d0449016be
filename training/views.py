"""HTTP views of the bottom layer: health, catalogue, organisations, keys, accreditation, sites, people.

Each view parses with a schema, calls one service function and dumps with the audience's schema.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, request
from sqlalchemy import select

from training import lookups, service
from training.auth import current_caller, require
from training.batch import run_batch
from training.catalogue import EMPLOYER_KINDS, NoRulesInForce, load_catalogue
from training.clock import CHINA
from training.db import utcnow
from training.errors import BadRequest, Unprocessable, field_error
from training.fields import iso
from training.http import idempotent, json_body, json_response, paginate, write
from training.models import Accreditation, ApiKey, Organization, Trainer, Worker
from training.openapi import build_spec, doc
from training.schemas import (
    AccreditationCreateRequestSchema,
    AccreditationPatchRequestSchema,
    AccreditationSchema,
    ApiKeyCreatedSchema,
    ApiKeyCreateRequestSchema,
    BatchRequestSchema,
    BatchResultSchema,
    CategoriesSchema,
    CategorySchema,
    ListOf,
    OrganizationCreateRequestSchema,
    OrganizationSchema,
    PersonCreateRequestSchema,
    PersonSchema,
    RoleSchema,
    RuleSetSchema,
    SiteCreateRequestSchema,
    SiteSchema,
)

bp = Blueprint("training", __name__, static_folder="static", static_url_path="/assets",
               template_folder="templates")
API = "/api/v1"
PEOPLE_KINDS = ("training_body", "exam_centre", "regulator") + EMPLOYER_KINDS
TRAINER_KINDS = ("training_body", "regulator") + EMPLOYER_KINDS


@bp.get("/healthz")
@doc("Liveness: no database work", public=True, errors=())
def healthz():
    return json_response({"status": "ok"})


@bp.get(f"{API}/openapi.json")
@doc("This document", public=True, errors=())
def openapi():
    return json_response(build_spec(current_app))


@bp.get(f"{API}/categories")
@doc("Training categories and their rules, as the rule set in force on a day has them (today by default)",
     response=CategoriesSchema, tags=["catalogue"], errors=("400", "422"),
     query={"on": {"type": "string", "format": "date"}})
def categories():
    asked = request.args.get("on")
    try:
        if asked and len(asked) != 10:
            raise ValueError(asked)
        day = date.fromisoformat(asked) if asked else (utcnow() + CHINA).date()
    except ValueError:
        raise BadRequest("on must be a date, YYYY-MM-DD.") from None
    try:
        cat = load_catalogue().on(day)
    except NoRulesInForce:
        raise Unprocessable(f"No rule set is in force on {day}.",
                            [field_error("on", "no_rules", "Before the earliest rule set.")]) from None
    cats = sorted(cat.categories.values(), key=lambda c: c.token_code)
    rs = cat.rules  # None for a catalogue folder without rule sets
    return json_response({"on": str(day), "items": CategorySchema(many=True).dump(cats),
                          "rules": RuleSetSchema().dump(rs) if rs is not None else None})


@bp.get(f"{API}/roles")
@doc("Roles and the categories each requires", response=ListOf[RoleSchema], tags=["catalogue"], errors=())
def roles():
    return json_response({"items": RoleSchema(many=True).dump(load_catalogue().roles.values())})


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
    return json_response(OrganizationSchema().dump(service.get_or_404(Organization, org_id, "organisation")))


@bp.post(f"{API}/organizations/<org_id>/api-keys")
@doc("Issue an API key (shown once: a replay under the same Idempotency-Key answers the same key_id with "
     "api_key null and a detail)", body=ApiKeyCreateRequestSchema, response=ApiKeyCreatedSchema,
     status=201, tags=["organisations"], errors=("400", "404", "422"))
@require()
@write
@idempotent(secrets_in=("api_key",))
def create_api_key(org_id):
    org = service.get_or_404(Organization, org_id, "organisation")
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
    org = service.get_or_404(Organization, org_id, "organisation")
    data = AccreditationCreateRequestSchema().load(json_body())
    return json_response(AccreditationSchema().dump(service.accredit(org, data, current_caller())), 201)


@bp.patch(f"{API}/accreditations/<acc_id>")
@doc("Suspend, withdraw or reinstate an accreditation", body=AccreditationPatchRequestSchema,
     response=AccreditationSchema, tags=["organisations"], errors=("400", "404", "409", "422"))
@require("regulator")
@write
def patch_accreditation(acc_id):
    acc = service.get_or_404(Accreditation, acc_id, "accreditation")
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


def _register(model, register):
    data = PersonCreateRequestSchema().load(json_body())
    lookups.count([data["id_number"]], current_caller(), current_app.extensions["identity"])
    person, created = register(data, current_app.extensions["identity"], current_caller())
    return json_response(PersonSchema().dump(person), 201 if created else 200)


@bp.post(f"{API}/workers")
@doc("Register a worker (or find the one already registered)", body=PersonCreateRequestSchema,
     response=PersonSchema, status=201, tags=["people"])
@require(*PEOPLE_KINDS)
@write
@idempotent
def create_worker():
    return _register(Worker, service.register_worker)


@bp.post(f"{API}/workers/batch")
@doc("Register many workers", body=BatchRequestSchema, response=BatchResultSchema, tags=["people"])
@require(*PEOPLE_KINDS)
@write
def create_workers():
    items = BatchRequestSchema().load(json_body())["items"]
    protector, caller = current_app.extensions["identity"], current_caller()
    lookups.count([i.get("id_number") for i in items if isinstance(i, dict) and isinstance(i.get("id_number"), str)],
                  caller, protector)

    def one(item):
        person, created = service.register_worker(PersonCreateRequestSchema().load(item), protector, caller)
        return person.id, 201 if created else 200
    return json_response(run_batch(items, one))


@bp.get(f"{API}/workers/<worker_id>")
@doc("One worker, masked", response=PersonSchema, tags=["people"], errors=("404",))
@require(*PEOPLE_KINDS, "inspectorate")
def get_worker(worker_id):
    return json_response(PersonSchema().dump(service.get_or_404(Worker, worker_id, "worker")))


@bp.post(f"{API}/trainers")
@doc("Register a trainer (or find the one already registered)", body=PersonCreateRequestSchema,
     response=PersonSchema, status=201, tags=["people"])
@require(*TRAINER_KINDS)
@write
@idempotent
def create_trainer():
    return _register(Trainer, service.register_trainer)


@bp.get(f"{API}/trainers/<trainer_id>")
@doc("One trainer, masked", response=PersonSchema, tags=["people"], errors=("404",))
@require(*TRAINER_KINDS)
def get_trainer(trainer_id):
    return json_response(PersonSchema().dump(service.get_or_404(Trainer, trainer_id, "trainer")))


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
