"""Finding a person by identity number, so that no lookup works as an oracle.

A masked number (``460105********1685``) hides only the birth date: about a thousand numbers fit
it and its check digit. Whoever may ask "is this number registered?" many times can recover the
full number, and with it the person. So:

- an organisation learns about a person it has no standing with (no employment, no enrolment)
  only when it presents both the name and the identity number, as one holding the person's ID
  card would; a wrong name and an unknown number get the same answer (``find``);
- every lookup by number is counted against the organisation (``RATE_LIMIT_ID_LOOKUP_ORG``, or
  ``RATE_LIMIT_ID_LOOKUP_INSPECTORATE`` for inspectorates and regulators, whose officers check
  the people in front of them all day) and against the person (``RATE_LIMIT_ID_LOOKUP_PERSON``),
  where "the person" is everyone sharing the masked form: the candidates an attacker would try
  share one count, so enumerating them stops after a few tries whichever keys send them;
- past either limit the answer is ``429`` with ``Retry-After``, and the first refusal in each
  window goes into the audit trail (once, so a flood cannot grow the trail), written after the
  request's own work is rolled back (``refused``), so the refusal changes nothing else.

The shared counters live in the layer above (``verify.web.ratelimit``), which answers the
``id_lookup`` signal with the wait, as it does for failed keys. Must not: put the number, the
masked form or the name in a counter's name or the audit entry.
"""
from __future__ import annotations

import unicodedata

from blinker import Namespace
from sqlalchemy import event, select

from training.db import db
from training.errors import TooManyRequests
from training.people.identity import IdentityError, normalize_id_number

id_lookup = Namespace().signal("id-lookup")
OVERSIGHT_KINDS = ("regulator", "inspectorate")


def same_name(typed: str | None, registered: str | None) -> bool:
    """Whether a typed name is the registered one: width forms, spaces and the middle dots of
    minority and foreign names aside (``阿依古丽·买买提`` typed as ``阿依古丽买买提``), exact."""
    def norm(s: str) -> str:
        s = unicodedata.normalize("NFKC", s or "")
        return "".join(ch for ch in s if not ch.isspace() and ch not in "·•・.‧").casefold()
    return bool(typed and registered) and norm(typed) == norm(registered)


PENDING = "anzheng.lookup_counts"


def count(numbers, caller, protector) -> None:
    """Count lookups of ``numbers`` by ``caller`` (a request's, all at once); ``429`` past the
    organisation's or a person's limit. A count outlives a refusal that follows (``422``,
    ``409``, ``429``): it is written on a connection of its own, or, where the session holds
    SQLite's only write lock, in the session's transaction and written again on its own if that
    transaction is rolled back (``_replay``). A lookup with no caller (the operator's command
    line, the demo) is not counted: whoever runs those holds the database already."""
    if caller is None:
        return
    persons = []
    for number in numbers:
        try:
            persons.append(protector.person_bucket(normalize_id_number(number)))
        except (IdentityError, TypeError):
            continue  # not a number at all: nothing is looked up
    if not persons:
        return
    conn = db.session.connection() if db.engine.dialect.name == "sqlite" and db.session().in_transaction() else None
    refused = [r for _, r in id_lookup.send(None, org_id=caller.org_id, kind=caller.kind, persons=persons, conn=conn)
               if r]
    if conn is not None:
        db.session.info.setdefault(PENDING, []).append((caller.org_id, caller.kind, persons))
    if not refused:
        return
    scope, wait, _ = max(refused, key=lambda r: r[1])
    raise TooManyRequests(
        "Too many lookups by identity number " + ("from this organisation" if scope == "organization"
                                                  else "of this person") + "; try again later.",
        headers={"Retry-After": str(wait)}, limit=scope,
        # The first refusal in its window is audited (once, so a flood cannot grow the trail),
        # by ``refused`` after the request's own work is rolled back.
        audit={"event": "id_lookup.limited", "actor_org": caller.org_id, "actor_key": caller.key_id,
               "detail": {"limit": sorted({r[0] for r in refused}), "lookups": len(persons)}}
        if any(r[2] for r in refused) else None)


@event.listens_for(db.session, "after_commit")
def _kept(session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(db.session, "after_transaction_end")
def _replay(session, transaction) -> None:
    """Counts made in a transaction that ended without a commit (rolled back, or closed at the
    request's end) are written again, on their own. A savepoint's end leaves the transaction
    that holds them (and the write lock): not yet."""
    if transaction.parent is not None or PENDING not in session.info:
        return
    for org_id, kind, persons in session.info.pop(PENDING, None) or ():
        id_lookup.send(None, org_id=org_id, kind=kind, persons=persons, conn=None)


def find(model, number: str, caller, protector, *, name: str | None = None, standing=None):
    """The person registered with ``number``, if the caller may learn of them: ``standing(person)``
    is true (an employment, an enrolment, an oversight role), or ``name`` is theirs. Else None, the
    same None as for a number nobody holds. It does not count: the caller counts the request's
    numbers first (``count``), before anything is written."""
    person = db.session.scalar(select(model).where(model.id_hash == protector.lookup_hash(number)))
    if person is None:
        return None
    if name is not None and same_name(name, person.name):
        return person
    if standing is not None and standing(person):
        return person
    return None
