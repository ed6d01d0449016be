"""The console of a training body and an exam centre, on the ``console`` blueprint made here
(its own pages in ``templates/``; the shared frame is ``training.web``'s).

``pages`` is what every page stands on (paging, the record a URL names, the caller); ``uploads``
reads a clerk's spreadsheet a row at a time and reports on it; ``classes`` (classes, rosters,
trainers), ``attendance`` (sessions and attendance, by grid or upload, voiding), ``exams`` (results
by upload and by exam session) and ``views`` (the home page) hold the routes; ``models`` the
classes' tables. ``certificates`` and ``verify`` build their consoles on ``pages`` and ``uploads``.
Must not: issue or revoke certificates (``certificates.issuance.console`` does, a layer up); show
a full identity number or put one in a URL (forms POST it; pages show the masked form).
"""
from __future__ import annotations

from flask import Blueprint

from training.accounts.guard import install

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
install(bp)
