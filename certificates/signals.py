"""Signals of the certificates layer, for the layer above (notices, findings)."""
from blinker import Namespace

_signals = Namespace()

certificate_issued = _signals.signal("certificate-issued")            # sender: Certificate
# Many at once (batch issuance), in one transaction: sender: the issuer's id, certificates=[objects
# with serial, worker_id, category, issuer_id, issued_at, evidence (the snapshot's JSON) and
# evidence_rows (attendance rows, exam rows), as certificate_issued's evidence=].
certificates_issued = _signals.signal("certificates-issued")
certificate_status_changed = _signals.signal("certificate-status-changed")  # sender: Certificate, event=
