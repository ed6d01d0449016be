"""Benchmark: the offline verdict against the bare signature check it cannot beat.

Measures, in one process and interleaved (so a noisy neighbour slows every contender alike):
bare PyNaCl verify of the token's Sig_structure, bare cryptography (OpenSSL) verify of the
same, `check_token` on the token bytes and `verify_offline` on the QR text. Prints medians of
several runs and the ratio that matters, check_token / PyNaCl (target >= 0.85). Then the status
list at a province's scale: its bytes with one compromised key that had signed 100,000 tokens, the
time to index it, and what a token under that key costs (the digest and the pin lookup). It
measures only; it must not be imported by the service. Run: .venv/bin/python bench/offline_verify.py
"""

import hashlib
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.signing import VerifyKey

from certificates.lists import pinned_tokens
from certificates.token import date_to_epoch_end, decode, qr_text, sign_document_bytes
from tests.tokens import (
    compromised_entry,
    key_entry,
    make_claims,
    make_key,
    sign_token,
    status_document,
    trust_document,
)
from verify.verification.verdict import StatusIndex, TrustIndex, check_token, verify_offline

PINNED = 100_000
ROUNDS = 31
BATCH = 300
NOW = date_to_epoch_end(date(2025, 8, 1))
BASE_URL = "https://anzheng.example.cn"


def realistic_setup():
    root, key = make_key(), make_key()
    claims = make_claims(holder_name="李秀英", holder_id_masked="410881********123X",
                         issuer_id="9c41e07b2d58a3f6")
    token = sign_token(key, claims)
    trust = TrustIndex.from_document(
        trust_document(root, key_entry(key, organization_id="9c41e07b2d58a3f6")))
    # A status list of realistic size: lookups must stay O(1) whatever its length.
    status = StatusIndex.from_document(status_document(
        root, revoked=[make_claims().serial_text for _ in range(2000)],
        suspended=[make_claims().serial_text for _ in range(300)]))
    return key, token, trust, status


def contenders(key, token, trust, status):
    decoded = decode(token)
    message, signature = decoded.sig_structure, decoded.signature
    nacl_key = VerifyKey(key.public_raw)
    openssl_key = Ed25519PublicKey.from_public_bytes(key.public_raw)
    text = qr_text(token, BASE_URL)
    assert check_token(token, trust, status, NOW).result == "valid"
    assert verify_offline(text, trust, status, NOW).result == "valid"
    return {
        "PyNaCl verify (bare)": lambda: nacl_key.verify(message, signature),
        "PyNaCl crypto_sign_open (bare)": lambda: crypto_sign_open(signature + message, key.public_raw),
        "cryptography verify (bare)": lambda: openssl_key.verify(signature, message),
        "check_token": lambda: check_token(token, trust, status, NOW),
        "verify_offline (QR text)": lambda: verify_offline(text, trust, status, NOW),
    }


def seconds_per_call(fn) -> float:
    start = time.perf_counter()
    for _ in range(BATCH):
        fn()
    return (time.perf_counter() - start) / BATCH


def measure(fns: dict) -> dict:
    for fn in fns.values():
        seconds_per_call(fn)  # warm up
    runs = {name: [] for name in fns}
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            runs[name].append(seconds_per_call(fn))
    return runs


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text, optimize=20)
    code.make(fit=True)
    return code.version


def main() -> None:
    key, token, trust, status = realistic_setup()
    fns = contenders(key, token, trust, status)
    runs = measure(fns)
    base = runs["PyNaCl verify (bare)"]
    print(f"{ROUNDS} rounds x {BATCH} calls, interleaved; medians\n")
    print(f"{'':28s} {'per second':>11s} {'us/call':>8s} {'vs PyNaCl':>10s}")
    for name, samples in runs.items():
        per_call = statistics.median(samples)
        ratio = statistics.median(b / s for b, s in zip(base, samples))
        print(f"{name:28s} {1 / per_call:11,.0f} {per_call * 1e6:8.1f} {ratio:10.3f}")
    ratio = statistics.median(b / s for b, s in zip(base, runs["check_token"]))
    low = statistics.median(b / s for b, s in zip(runs["PyNaCl crypto_sign_open (bare)"], runs["check_token"]))
    text = qr_text(token, BASE_URL)
    print(f"\ncheck_token / PyNaCl (median of per-round ratios): {ratio:.3f}  (target >= 0.85)")
    print(f"check_token / PyNaCl's lower-level crypto_sign_open, which check_token itself calls: {low:.3f}")
    print(f"token: {len(token)} bytes; QR text: {len(text)} characters "
          f"({text[:32]}...), QR version {qr_version(text)} at error correction M")


def status_list_at_scale() -> None:
    """One compromised key that had signed PINNED tokens: the document's size and the cost of
    a token under that key, which alone pays for the digest."""
    root, key = make_key(), make_key()
    claims = make_claims()
    token = sign_token(key, claims)
    hashes = [hashlib.sha256(token).digest()] + [os.urandom(32) for _ in range(PINNED - 1)]
    entry = {**compromised_entry(key), "pinned_tokens": pinned_tokens(hashes)}  # the service's packing
    doc = status_document(root, compromised_keys=[entry])
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    start = time.perf_counter()
    status = StatusIndex.from_document(doc)
    indexed = time.perf_counter() - start
    start = time.perf_counter()
    sign_document_bytes(doc)
    canonical = time.perf_counter() - start
    trust = TrustIndex.from_document(trust_document(root, key_entry(
        key, status="compromised", compromised_at="2025-05-01T00:00:00Z")))
    assert check_token(token, trust, status, NOW).result == "valid"
    assert check_token(sign_token(key, make_claims(serial=claims.serial, holder_name="张三")), trust, status,
                       NOW).reasons == ("compromised_key",)
    pinned = statistics.median(seconds_per_call(lambda: check_token(token, trust, status, NOW)) for _ in range(9))
    print(f"\nstatus list with one compromised key and {PINNED:,} pinned tokens: {len(body):,} bytes "
          f"({len(body) / PINNED:.1f} per token; {len(body) / 2**20:.2f} MiB); indexed in {indexed * 1e3:.0f} ms, "
          f"canonicalised for its signature in {canonical * 1e3:.0f} ms")
    print(f"check_token on a pinned token under that key: {pinned * 1e6:.1f} us/call")


if __name__ == "__main__":
    main()
    status_list_at_scale()
