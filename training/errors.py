"""Domain errors and their one mapping to problem+json (RFC 9457).

Services raise these; one set of handlers turns them into responses. Anything unexpected is a
500 that reveals nothing. Messages never carry personal data.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from training.db import audit

log = logging.getLogger("anzheng.errors")

PROBLEM = "application/problem+json"

# marshmallow's stock messages, mapped to stable codes clients can act on.
_STOCK_CODES = (
    ("Missing data for required field", "required"),
    ("Unknown field", "unknown_field"),
    ("Field may not be null", "required"),
    ("Must be one of", "not_allowed"),
    ("Length must", "length"),
    ("Longer than maximum length", "length"),
    ("Shorter than minimum length", "length"),
    ("Must be greater", "range"),
    ("Must be less", "range"),
    ("Must be at least", "range"),
    ("Must be at most", "range"),
    ("Not a valid", "invalid"),
    ("Invalid input type", "invalid"),
)


class ApiError(Exception):
    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(self, detail: str = "", errors: list[dict] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra


class BadRequest(ApiError):
    status, title = 400, "Malformed request"


class Unauthorized(ApiError):
    status, title = 401, "Authentication required"


class Forbidden(ApiError):
    status, title = 403, "Not allowed"


class NotFound(ApiError):
    status, title = 404, "Not found"


class Conflict(ApiError):
    status, title = 409, "Conflict"


class PayloadTooLarge(ApiError):
    status, title = 413, "Body too large"


class Unprocessable(ApiError):
    """Validation failed, or the evidence does not support what was asked."""
    status, title = 422, "Unprocessable request"


class TooManyRequests(ApiError):
    status, title = 429, "Too many requests"


def field_error(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def coded(code: str, message: str) -> str:
    """A validator message that carries its code through marshmallow."""
    return f"[{code}] {message}"


def _split(message: str) -> tuple[str, str]:
    if message.startswith("[") and "] " in message:
        code, text = message[1:].split("] ", 1)
        return code, text
    for prefix, code in _STOCK_CODES:
        if message.startswith(prefix):
            return code, message
    return "invalid", message


def flatten(messages, prefix: str = "") -> list[dict]:
    """marshmallow's nested message dict → the contract's flat errors list."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix
            out.extend(flatten(value, name))
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            out.extend(flatten(item, prefix))
    else:
        code, text = _split(str(messages))
        out.append(field_error(prefix or "body", code, text))
    return out


def problem(status: int, title: str, detail: str, errors=None, type_="about:blank", **extra):
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM
    return resp


def register_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        if "audit" in err.extra:  # a refusal the audit trail keeps (training.people.lookups)
            audit.refused(err)
        resp = problem(err.status, err.title, err.detail, err.errors, err.type,
                       **{k: v for k, v in err.extra.items() if k not in ("headers", "audit")})
        for name, value in (err.extra.get("headers") or {}).items():
            resp.headers[name] = value
        return resp

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        errors = flatten(err.messages)
        return problem(422, "Validation failed", "Some fields are missing or wrong; see errors.", errors)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        detail = {
            404: "No such resource.",
            405: "This method is not allowed here.",
            413: f"The body is larger than the limit of {app.config['MAX_CONTENT_LENGTH']} bytes.",
        }.get(err.code, err.description or err.name)
        resp = problem(err.code or 500, err.name, detail)
        if err.code == 405 and getattr(err, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(err.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unexpected error")  # the traceback stays in the log, never in the answer
        return problem(500, "Internal error", "Something went wrong on our side; nothing was changed.")
