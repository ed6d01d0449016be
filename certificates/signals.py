"""Signals of the certificates layer, for the layer above (notices, findings)."""
from blinker import Namespace

_signals = Namespace()

certificate_issued = _signals.signal("certificate-issued")            # sender: Certificate
certificate_status_changed = _signals.signal("certificate-status-changed")  # sender: Certificate, event=
