"""Reading scanned codes, verdicts, scans, pre-start checks, findings and cases, and pages."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
