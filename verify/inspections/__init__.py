"""On-site inspections: the inspector's scanner and what it records.

``app/`` is the installable scanner's source (JavaScript; built by scripts/setup.sh into
``static/inspect``, docs/inspect.md), ``views`` serves it at /inspect with its API (scan uploads,
wording, lists), ``service`` records inspections (each person checked, by card or identity
number) and ``onsite`` turns an inspector's scan at a site into the employment findings. The
blueprint ("inspect") is made here and its routes hang on it from ``views``; nothing here imports
a module below it.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint

BUILD = Path(__file__).resolve().parent / "static" / "inspect"
bp = Blueprint("inspect", __name__, template_folder="templates", static_folder=str(BUILD),
               static_url_path="/inspect/assets")
