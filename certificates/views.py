"""HTTP views of certificates: issue, read, images and card, status changes, review, lists, and
the audit trail's signed checkpoints."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from certificates import audit_checkpoints, lists, status as cert_status
from certificates.card import CardData, render_card
from certificates.issuance import queries, service
from certificates.schemas import (
    CertificateIssuerSchema,
    IssueRequestSchema,
    ReasonRequestSchema,
    StatusSchema,
)
from training.accounts.api_keys import current_caller, require
from training.catalogue import load_catalogue
from training.web.http import idempotent, json_body, json_response, write
from training.web.openapi import doc

bp = Blueprint("certificates", __name__)
API = "/api/v1/certificates"
READERS = ("training_body", "regulator", "enterprise", "labour_agency", "subcontractor", "inspectorate",
           "exam_centre")


def _signer():
    return current_app.extensions["signer"]


@bp.post(API)
@doc("Issue a certificate on the worker's evidence", body=IssueRequestSchema, response=CertificateIssuerSchema,
     status=201, tags=["certificates"], errors=("400", "409", "422"))
@require("training_body")
@write
@idempotent
def issue():
    data = IssueRequestSchema().load(json_body())
    cert = service.issue_certificate(data, current_caller(), _signer(), current_app.config["PUBLIC_BASE_URL"])
    return json_response(CertificateIssuerSchema().dump(cert), 201)


@bp.get(f"{API}/<serial>")
@doc("A certificate with its current status (its issuer, the holder's employers, regulators)", response=CertificateIssuerSchema, tags=["certificates"],
     errors=("404",))
@require(*READERS)
def get(serial):
    return json_response(CertificateIssuerSchema().dump(cert_status.readable_certificate(serial, current_caller())))


def _image(serial, attr, mimetype):
    cert = cert_status.readable_certificate(serial, current_caller())
    return Response(bytes(getattr(cert, attr)), mimetype=mimetype,
                    headers={"Cache-Control": "private, max-age=300"})


@bp.get(f"{API}/<serial>/qr.png")
@doc("The QR image (PNG), made at issue time", tags=["certificates"], content_type="image/png", errors=("404",))
@require(*READERS)
def qr_png(serial):
    return _image(serial, "qr_png", "image/png")


@bp.get(f"{API}/<serial>/qr.svg")
@doc("The QR image (SVG), made at issue time", tags=["certificates"], content_type="image/svg+xml",
     errors=("404",))
@require(*READERS)
def qr_svg(serial):
    return _image(serial, "qr_svg", "image/svg+xml")


def card_data(cert) -> CardData:
    cat = load_catalogue().category(cert.category)
    return CardData(serial=cert.serial, holder_name=cert.worker.name, holder_id_masked=cert.worker.id_masked,
                    category_name=cat.name, category_code=cat.code, issuer_name=cert.issuer.name,
                    issued_on=service.clock.today(cert.issued_at), valid_until=cert.valid_until,
                    review_due=cert.review_due, qr_text=cert.qr_text, status=queries.effective_status(cert),
                    review_required=load_catalogue().review_required(cert.category, cert.review_due))


@bp.get(f"{API}/<serial>/card.pdf")
@doc("The printable A6 card (a lost card is reprinted here, same serial)", tags=["certificates"],
     content_type="application/pdf", errors=("404",))
@require(*READERS)
def card(serial):
    cert = cert_status.readable_certificate(serial, current_caller())
    return Response(render_card(card_data(cert)), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{cert.serial}.pdf"'})


def _status_view(serial, action):
    cert = cert_status.get_certificate(serial)
    reason = ReasonRequestSchema().load(json_body())["reason"]
    cert = cert_status.change_status(cert, action, reason, current_caller())
    return json_response(StatusSchema().dump({"serial": cert.serial, "status": cert.status, "reason": reason}))


for _action in ("revoke", "suspend", "reinstate"):
    def _make(action):
        @doc(f"{action.capitalize()} a certificate (its issuer or a regulator)", body=ReasonRequestSchema,
             response=StatusSchema, tags=["certificates"], errors=("400", "404", "409", "422"))
        @require("training_body", "regulator")
        @write
        def view(serial):
            return _status_view(serial, action)
        view.__name__ = action
        return view
    bp.add_url_rule(f"{API}/<serial>/{_action}", _action, _make(_action), methods=["POST"])


@bp.post(f"{API}/<serial>/review")
@doc("The review (复审) where the rules it was issued under have one: extends review_due on recorded refresher training, re-signs the token",
     response=CertificateIssuerSchema, tags=["certificates"], errors=("404", "409", "422"))
@require("training_body")
@write
def review(serial):
    cert = cert_status.get_certificate(serial)
    cert = service.review_certificate(cert, current_caller(), _signer(), current_app.config["PUBLIC_BASE_URL"])
    return json_response(CertificateIssuerSchema().dump(cert))


@bp.get("/api/v1/trust-list")
@doc("Signing keys with their bodies' accreditation, signed by the regulator", tags=["lists"], errors=())
@write
def trust_list():
    return json_response(lists.trust_list(_signer()), headers={"Cache-Control": "public, max-age=60"})


@bp.get("/api/v1/status-list")
@doc("Revoked and suspended serials, and each compromised key's legitimately signed tokens pinned by "
     "digest (sha256-128 of the token's bytes, sorted and packed; docs/certificates.md), signed by the regulator",
     tags=["lists"], errors=())
@write
def status_list():
    return json_response(lists.status_list(_signer()), headers={"Cache-Control": "public, max-age=60"})


@bp.get("/api/v1/audit/checkpoint")
@doc("The newest signed checkpoint of the audit trail: entry count (size), the last entry's hash (head) and "
     "issued_at, signed by the regulator like the lists", tags=["lists"], errors=("404",))
def audit_checkpoint():
    return json_response(audit_checkpoints.latest(), headers={"Cache-Control": "public, max-age=60"})


@bp.get("/api/v1/audit/checkpoints")
@doc("Signed checkpoints of the audit trail, newest first: keep copies, they are what a rewritten trail "
     "cannot match (flask audit-verify --checkpoints)", tags=["lists"],
     query={"limit": {"type": "integer", "minimum": 1, "maximum": 500}, "cursor": {"type": "string"}},
     errors=("400",))
def audit_checkpoints_list():
    return json_response(audit_checkpoints.recent(), headers={"Cache-Control": "public, max-age=60"})
