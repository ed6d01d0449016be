"""The OpenAPI document, built from the routes that exist and the schemas the views use.

Views declare what they take and give with ``@doc``; the document is assembled from the live
URL map, so a route cannot be served without being described, nor described without existing.
"""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from training.web.schemas import ProblemSchema

_ERRORS = {"400": "Malformed body", "401": "No valid API key", "403": "Not allowed for this organisation, or for the console role of the key's holder",
           "404": "Not found", "409": "Conflict", "413": "Body too large", "422": "Validation failed",
           "429": "Too many requests"}


def doc(summary: str, *, body=None, response=None, status: int = 200, tags=(), query=None,
        public: bool = False, content_type: str = "application/json", errors=("400", "422")):
    def decorate(view):
        view._apidoc = dict(summary=summary, body=body, response=response, status=status, tags=tags,
                            query=query or {}, public=public, content_type=content_type, errors=errors)
        return view
    return decorate


def _operation(meta: dict, view, path_params: list[str]) -> dict:
    op: dict = {"summary": meta["summary"], "tags": list(meta["tags"]), "responses": {}}
    params = [{"in": "path", "name": p, "required": True, "schema": {"type": "string"}} for p in path_params]
    params += [{"in": "query", "name": n, "required": False, "schema": s} for n, s in meta["query"].items()]
    if params:
        op["parameters"] = params
    if meta["body"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
    ok: dict = {"description": "OK"}
    if meta["response"] is not None:
        ok["content"] = {meta["content_type"]: {"schema": meta["response"]}}
    elif meta["content_type"] != "application/json":
        ok["content"] = {meta["content_type"]: {"schema": {"type": "string", "format": "binary"}}}
    op["responses"][str(meta["status"])] = ok
    kinds = getattr(view, "required_kinds", None)
    codes = list(meta["errors"])
    if kinds is not None:
        op["security"] = [{"apiKey": []}]
        codes += ["401", "403"]  # a person's key is narrowed by its holder's role on any endpoint
        if kinds:
            op["description"] = "Allowed organisation kinds: " + ", ".join(kinds) + "."
    for code in codes:
        op["responses"][code] = {"description": _ERRORS[code],
                                 "content": {"application/problem+json": {"schema": ProblemSchema}}}
    return op


def build_spec(app: Flask) -> dict:
    spec = APISpec(title="anzheng (安证) API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Training certificates for high-risk work: issue, verify, inspect."})
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "_apidoc", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        params = re.findall(r"{([a-z_]+)}", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(meta, view, params)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()
