"""The inspector's scanner (docs/inspect.md): the installable app at /inspect and its API.

The app shell, its built assets (verify/inspections/static/inspect, made by scripts/setup.sh from
verify/inspections/app) and the service worker; the verdict wording as JSON, so the app says what the
server says; the sites of an inspector's area for the offline cache; and the batch upload of scans
made offline, each verified again online and recorded once, however often the device retries.

It decides no verdict itself (verify.verification.service does, online; the app's verdict.js offline) and never
sees a private key.
"""
from __future__ import annotations

import io
import json
import math
from functools import lru_cache

from flask import Response, current_app, render_template, request, send_from_directory
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from training.accounts.api_keys import current_caller, require
from training.db import db, utcnow
from training.errors import ApiError, BadRequest, Conflict, flatten
from training.parties.models import Site
from training.parties.schemas import SiteSchema
from training.web.fields import UtcDateTime
from training.web.http import json_body, json_response, paginate, write
from training.web.i18n import current_lang
from training.web.openapi import doc
from training.web.schemas import ListOf
from verify.inspections import BUILD, bp
from verify.verification.messages import MESSAGES, reasons
from verify.verification.models import Scan
from verify.verification.scans import record_scan
from verify.verification.service import PRIVILEGED, verify_text
from verify.verification.verdict import RESULTS

INSPECTORS = PRIVILEGED  # inspectorates, and regulators doing their own checks
# Lists older than this (hours) mark every verdict "lists out of date", by the site's risk class.
DEFAULT_MAX_AGE_HOURS = {"normal": 24, "high": 8}
DEFAULT_RADIUS_KM, MAX_RADIUS_KM = 50.0, 500.0


# --- the app -------------------------------------------------------------------------------


def _build_info() -> dict | None:
    try:
        return json.loads((BUILD / "build.json").read_text())
    except (OSError, ValueError):
        return None


def _max_ages() -> dict:
    configured = current_app.config.get("INSPECT_MAX_AGE_HOURS") or {}
    return {k: float(configured.get(k, v)) for k, v in DEFAULT_MAX_AGE_HOURS.items()}


@bp.get("/inspect")
@bp.get("/inspect/")
@doc("The inspector's scanner: the installable app's shell (Chinese first, ?lang=en)", tags=["inspector app"],
     content_type="text/html", errors=())
def shell():
    build = _build_info()
    config = {"lang": current_lang(), "maxAgeHours": _max_ages(), "build": build and build["version"],
              "base": request.script_root + "/inspect"}
    return render_template("inspect.html", build=build, config=config), 200, {"Cache-Control": "no-cache"}


@bp.get("/inspect/sw.js")
@doc("The scanner's service worker (scope /inspect)", tags=["inspector app"], content_type="text/javascript",
     errors=("404",))
def service_worker():
    if not (BUILD / "sw.js").exists():
        return Response("// not built: run scripts/setup.sh\n", 404, mimetype="text/javascript")
    resp = send_from_directory(BUILD, "sw.js", mimetype="text/javascript", max_age=0)
    # The worker lives under /inspect/ but serves the shell at /inspect itself.
    resp.headers["Service-Worker-Allowed"] = "/inspect"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/inspect/manifest.webmanifest")
@doc("The scanner's web app manifest", tags=["inspector app"], content_type="application/manifest+json",
     response={"type": "object"}, errors=())
def manifest():
    zh = current_lang() != "en"
    body = {"name": "安证 · 现场核验" if zh else "anzheng inspector", "short_name": "安证核验" if zh else "anzheng",
            "lang": "zh-CN" if zh else "en", "start_url": "/inspect", "scope": "/inspect", "id": "/inspect",
            "display": "standalone", "orientation": "portrait", "background_color": "#f5f7fa",
            "theme_color": "#12325e",
            "icons": [{"src": f"/inspect/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png",
                       "purpose": "any maskable"} for n in (192, 512)]}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@lru_cache(maxsize=4)
def _icon(size: int) -> bytes:
    """A shield with a tick, drawn once: no image file to keep in step with the colours."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (size, size), "#12325e")
    d = ImageDraw.Draw(img)
    s = size / 100
    d.polygon([(50 * s, 14 * s), (80 * s, 26 * s), (77 * s, 58 * s), (50 * s, 86 * s), (23 * s, 58 * s),
               (20 * s, 26 * s)], fill="#ffffff")
    d.line([(35 * s, 51 * s), (46 * s, 62 * s), (66 * s, 39 * s)], fill="#0f7b3e", width=max(2, int(8 * s)))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@bp.get("/inspect/icon-<int:size>.png")
@doc("The scanner's icon, 192 or 512 pixels square", tags=["inspector app"], content_type="image/png",
     errors=("404",))
def icon(size):
    if size not in (192, 512):
        return Response(status=404)
    return Response(_icon(size), mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


class VerdictMessagesSchema(Schema):
    messages = fields.Dict(keys=fields.String(), values=fields.Dict())
    results = fields.List(fields.String())


@bp.get("/api/v1/verdict-messages")
@doc("The words for every verdict reason code, Chinese and English (what the scanner shows)",
     response=VerdictMessagesSchema, tags=["verification"], errors=())
def verdict_messages():
    return json_response({"messages": MESSAGES, "results": list(RESULTS)},
                         headers={"Cache-Control": "public, max-age=3600"})


# --- the sites of an inspector's area ------------------------------------------------------


def _coordinate(name: str, low: float, high: float) -> float | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number.") from None
    if not (low <= value <= high) or math.isnan(value):
        raise BadRequest(f"{name} must be between {low:g} and {high:g}.")
    return value


def area_filter(caller, lat: float | None, lon: float | None, radius_km: float):
    """Sites the caller's organisation recorded, plus (given a point) every site within a box of
    ±radius_km around it: a box, not a circle, so the database can use plain comparisons."""
    own = Site.created_by == caller.org_id
    if lat is None or lon is None:
        return own
    dlat = radius_km / 111.0
    dlon = radius_km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    return or_(own, and_(Site.latitude.between(lat - dlat, lat + dlat),
                         Site.longitude.between(lon - dlon, lon + dlon)))


@bp.get("/api/v1/inspect/sites")
@doc("Sites of the inspector's area, for the scanner's offline cache: the caller's own sites and, "
     "given latitude and longitude, all sites within radius_km (a box, default 50, at most 500)",
     response=ListOf[SiteSchema], tags=["verification"], errors=("400",),
     query={"latitude": {"type": "number"}, "longitude": {"type": "number"},
            "radius_km": {"type": "number"}, "limit": {"type": "integer"}, "cursor": {"type": "string"}})
@require(*INSPECTORS)
def area_sites():
    lat, lon = _coordinate("latitude", -90, 90), _coordinate("longitude", -180, 180)
    radius = _coordinate("radius_km", 0, MAX_RADIUS_KM)
    stmt = select(Site).where(area_filter(current_caller(), lat, lon, DEFAULT_RADIUS_KM if radius is None else radius))
    return json_response(paginate(stmt, Site, SiteSchema().dump))


# --- offline scans, uploaded ---------------------------------------------------------------


class ScanUploadItemSchema(Schema):
    client_ref = fields.String(required=True, validate=validate.Length(8, 64))
    qr_text = fields.String(required=True, validate=validate.Length(0, 100_000))
    site_id = fields.String(validate=validate.Length(1, 16), allow_none=True)
    latitude = fields.Float(validate=validate.Range(-90, 90), allow_nan=False, allow_none=True)
    longitude = fields.Float(validate=validate.Range(-180, 180), allow_nan=False, allow_none=True)
    scanned_at = UtcDateTime(required=True)
    device_now = UtcDateTime(required=True)
    offline_result = fields.String(validate=validate.OneOf(RESULTS), allow_none=True)


class ScanUploadRequestSchema(Schema):
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(1, 1000))


class ScanUploadResultSchema(Schema):
    index = fields.Integer()
    status = fields.Integer()
    id = fields.String()
    client_ref = fields.String(allow_none=True)
    result = fields.String()
    reasons = fields.List(fields.Dict())
    certificate = fields.Dict(allow_none=True)
    clock_offset_s = fields.Integer()
    changed = fields.Boolean()
    replayed = fields.Boolean()
    errors = fields.List(fields.Dict())


class ScanUploadResponseSchema(Schema):
    items = fields.List(fields.Nested(ScanUploadResultSchema))


def _replay(scan: Scan, item: dict, caller, lang: str) -> dict:
    if scan.organization_id != caller.org_id:
        raise Conflict("This client_ref belongs to another organisation's scan.",
                       [{"field": "client_ref", "code": "conflict", "message": "Already used by another organisation."}])
    return {"status": 200, "id": scan.id, "result": scan.result, "reasons": reasons(scan.reasons.split(" "), lang),
            "clock_offset_s": scan.clock_offset_s, "replayed": True,
            "changed": item.get("offline_result") not in (None, scan.result)}


def upload_scan(item: dict, caller, received, lang: str) -> dict:
    """One offline scan: verified online now, recorded once under its client_ref."""
    data = ScanUploadItemSchema().load(item)
    found = db.session.scalar(select(Scan).where(Scan.client_ref == data["client_ref"]))
    if found is not None:
        return _replay(found, data, caller, lang)
    # The device's clock against the server's, both read at upload: its error, in seconds.
    offset = round((data["device_now"] - received).total_seconds())
    outcome = verify_text(data["qr_text"], current_app.extensions["key_table"], caller.kind)
    scan = record_scan(outcome, caller, data, offline=True, clock_offset_s=offset)
    return {"status": 201, "id": scan.id, "result": outcome.result, "reasons": reasons(outcome.reasons, lang),
            "certificate": outcome.certificate, "clock_offset_s": offset, "replayed": False,
            "changed": data.get("offline_result") not in (None, outcome.result)}


@bp.post("/api/v1/scans")
@doc("Upload scans made offline: each is verified online and recorded once per client_ref, with the "
     "device clock's offset (device_now minus the server's receipt time); one result per item",
     body=ScanUploadRequestSchema, response=ScanUploadResponseSchema, tags=["verification"],
     errors=("400", "413", "422"))
@require(*INSPECTORS)
@write
def upload_scans():
    received = utcnow()
    items = ScanUploadRequestSchema().load(json_body())["items"]
    caller, lang, out = current_caller(), current_lang(), []
    for index, item in enumerate(items):
        savepoint = db.session.begin_nested()
        try:
            result = upload_scan(item, caller, received, lang)
            savepoint.commit()
        except IntegrityError:  # the same client_ref sent twice at once: the other one won
            savepoint.rollback()
            found = db.session.scalar(select(Scan).where(Scan.client_ref == item.get("client_ref")))
            result = (_replay(found, item, caller, lang) if found is not None and found.organization_id == caller.org_id
                      else {"status": 409, "errors": [{"field": "client_ref", "code": "conflict",
                                                       "message": "Already used by another scan."}]})
        except ValidationError as err:
            savepoint.rollback()
            result = {"status": 422, "errors": flatten(err.messages)}
        except ApiError as err:
            savepoint.rollback()
            result = {"status": err.status, "errors": err.errors or [
                {"field": "", "code": err.title.lower().replace(" ", "_"), "message": err.detail}]}
        out.append({"index": index, "client_ref": item.get("client_ref") if isinstance(item, dict) else None,
                    **result})
    return json_response({"items": out})
