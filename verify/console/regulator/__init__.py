"""The regulator's console.

``pages`` is what every page stands on (who asks, an organisation by id, the home page's counts);
``dashboard`` draws findings over time, by kind and by body (charts from ``charts``);
``organisations`` registers organisations and grants, suspends or withdraws accreditation and
issues their API keys; ``findings`` holds the review queue, one finding with its evidence
(``evidence`` reads it back in words), appeals and cases; ``revocations`` revokes every
certificate a training body issued in a period; ``words`` names kinds, statuses and refusals. The
blueprint ("regulator_console") is made here and each page module's routes hang on it;
``verify``'s ``init_app`` imports those modules. Nothing here imports a page module.

Every page goes through ``training.accounts.guard.page`` for a person of a regulator, each gated by its
duty: the dashboard and everything about findings by ``findings``, organisations, accreditation
and keys by ``organisations`` (``training.accounts.roles.ACTIONS``). The work is the services'
(``training.parties.service``, ``verify.findings``, ``verify.cases``), called with the signed-in person as
the caller, so the records and the audit trail name them.

Must not: write tables itself; issue or revoke a regulator's own keys (those go to persons, under
the ``accounts`` duty, so that no one hands themselves a key that skips the separation of duties);
show a full identity number.
"""
from __future__ import annotations

from flask import Blueprint

from training.accounts.guard import install

bp = Blueprint("regulator_console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/assets/regulator")
install(bp)
