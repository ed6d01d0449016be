"""Signals of the certificates layer, for the layer above (notices, findings)."""
from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()

certificate_issued = _signals.signal("certificate-issued")            # sender: Certificate
# Many at once (batch issuance), in one transaction: sender: the issuer's id, certificates=[Issued].
certificates_issued = _signals.signal("certificates-issued")
certificate_status_changed = _signals.signal("certificate-status-changed")  # sender: Certificate, event=


@dataclass
class Issued:
    """A certificate just issued, as the rules read it: ``evidence`` is the snapshot's JSON and
    ``evidence_rows`` the (attendance rows, exam rows) issuance weighed."""
    serial: str
    worker_id: str
    category: str
    issuer_id: str
    issued_at: object
    evidence: str
    evidence_rows: tuple
