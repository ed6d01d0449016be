"""Signals the bottom layer sends so higher layers can react without being imported here.

blinker signals are synchronous: receivers run in the same request and transaction as the
sender, so a rule that fires on new evidence commits (or rolls back) with it.
"""
from blinker import Namespace

_signals = Namespace()

attendance_recorded = _signals.signal("attendance-recorded")   # sender: Attendance
exam_recorded = _signals.signal("exam-recorded")               # sender: Exam
record_voided = _signals.signal("record-voided")               # sender: Attendance | Exam
session_recorded = _signals.signal("session-recorded")         # sender: TrainingSession
accreditation_changed = _signals.signal("accreditation-changed")  # sender: Accreditation
