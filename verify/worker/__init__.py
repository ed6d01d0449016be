"""The worker's own page (public, no account): one's certificates, the findings that name one, and
appeals against them.

The blueprint ("worker") is made here; its routes hang on it from ``views``.
"""
from __future__ import annotations

from flask import Blueprint

from training.accounts.guard import install

bp = Blueprint("worker", __name__, template_folder="templates")
install(bp)
