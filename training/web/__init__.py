"""The bottom layer's HTTP plumbing, and its ``training`` blueprint (made here, with the shared
page frame in ``templates/`` and ``static/``, served at ``/assets``).

- ``http``: JSON bodies, answers, security headers, idempotency keys, paging, ``get_or_404``;
- ``openapi``: the ``doc`` decorator and the OpenAPI document built from the routes;
- ``schemas``: the shapes every API shares (batches, catalogue, roles, problems, ``Name``);
- ``fields``: marshmallow fields for identity numbers, credit codes, names and times;
- ``batch``: one item per savepoint, so a refused item leaves the others standing;
- ``csrf`` and ``i18n``: the console's form tokens, and the words in Chinese or English (``t``);
- ``views``: health, the OpenAPI document, the catalogue and the roles.

Must not: hold a domain's rules (those are in the domain packages, which build on this one).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("training", __name__, static_folder="static", static_url_path="/assets",
               template_folder="templates")
API = "/api/v1"
