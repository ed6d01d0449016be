"""Signals of the verification layer."""
from blinker import Namespace

_signals = Namespace()

scan_recorded = _signals.signal("scan-recorded")  # sender: Scan, outcome=Outcome
finding_raised = _signals.signal("finding-raised")                  # sender: Finding
finding_status_changed = _signals.signal("finding-status-changed")  # sender: Finding, old=previous status
