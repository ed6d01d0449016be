"""The verify layer's HTTP face: its API blueprint and the rate limits every view shares.

``bp`` ("verify") carries every /api/v1 route of this layer (verification, findings, appeals,
cases, inspections, employment, pre-start checks, notices) and the public page behind every QR
code; ``training.accounts.roles.API_ACTIONS`` names those endpoints as ``verify.<view>``, so a route keeps
its function's name wherever it moves. The route modules import ``bp`` from here and ``verify``'s
``init_app`` imports them; nothing here imports a route module. The pages of the consoles, the
worker and the scanner have blueprints of their own, in their packages.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("verify", __name__, template_folder="../verification/templates")
