"""Signals of the verification layer."""
from blinker import Namespace

_signals = Namespace()

scan_recorded = _signals.signal("scan-recorded")  # sender: Scan, outcome=Outcome
