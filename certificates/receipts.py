"""Documents signed for the layer above: the only way anything outside ``certificates/`` gets a
document signed.

A pre-start check's answer is signed here as a receipt (docs/prestart.md): a detached Ed25519
signature by the regulator's list key over the document's RFC 8785 form, the same key and form as
the trust and status lists, so anyone holding the trust list checks it offline
(``verify.verification.verdict.verify_document_signature``). ``verify/`` hands the document over
and never holds the signer.
"""
from __future__ import annotations

from flask import current_app

from certificates.keys import list_key


def sign_receipt(doc: dict) -> dict:
    """The document with its ``signature`` (alg, kid, value) added last."""
    signer = current_app.extensions["signer"]
    return signer.sign_document(list_key(signer), doc)
