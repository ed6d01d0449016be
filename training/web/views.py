"""HTTP views of the bottom layer: health, catalogue, organisations, keys, accreditation, sites, people.

Each view parses with a schema, calls one service function and dumps with the audience's schema.
"""
from __future__ import annotations

from datetime import date

from flask import current_app, request

from training.catalogue import NoRulesInForce, load_catalogue
from training.clock import CHINA
from training.db import utcnow
from training.errors import BadRequest, Unprocessable, field_error
from training.web import API, bp
from training.web.http import json_response
from training.web.openapi import build_spec, doc
from training.web.schemas import (
    CategoriesSchema,
    CategorySchema,
    ListOf,
    RoleSchema,
    RuleSetSchema,
)


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
