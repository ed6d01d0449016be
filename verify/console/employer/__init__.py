"""Console pages of an enterprise, a labour agency and a subcontractor.

``pages`` is what every page stands on (who asks, words, the home page's figures, finding the
worker, partner or placement a form names); ``placements`` places, lists, confirms and ends
placements; ``notices`` shows and marks notices; ``induction`` records the three-level safety
induction; ``checks`` answers pre-start checks and shows their signed receipts; ``crews`` checks a
whole crew from a spreadsheet; ``words`` says each refusal in plain words. The blueprint
("employer_console") is made here and each page module's routes hang on it; ``verify``'s
``init_app`` imports those modules. Nothing here imports a page module.

Every page goes through ``training.accounts.guard.page`` for a person of an employing organisation:
reading, checking a hire and notices are every role's; placing, ending and induction records are
the administrator's and the clerk's (``records``). A record of another organisation is a 404.
The work is the services' (``verify.employment``, ``verify.prestart``, ``training.parties.service``),
called with the signed-in person as the caller so the records and the audit trail name them.

Must not: write tables itself; show, log or put in a URL a full identity number (forms POST it,
pages show the masked form).
"""
from __future__ import annotations

from flask import Blueprint

from training.accounts.guard import install

bp = Blueprint("employer_console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/assets/employer")
install(bp)
