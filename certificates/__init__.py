"""Keys, signed tokens, QR codes, issuance, revocation, the trust and status lists."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
