"""Benchmark: QR rendering rates (one core) against qrcode's stock path, and the QR versions that
realistic certificate texts get.

Role: measure, print, nothing else. Tokens are built as docs/token.md describes (tagged
COSE_Sign1 over CWT claims, a 16-character organisation id, a Chinese name of 2-4 characters,
an Ed25519 signature from a throwaway key), so their sizes are the real ones. Must not import the
signer or touch a database: the key here is made up on the spot.

Run: .venv/bin/python bench/qr_render.py [--texts 300] [--rounds 3]
"""

import argparse
import collections
import io
import os
import random
import statistics
import sys
import time

import cbor2
import qrcode
import zxingcpp
from nacl.signing import SigningKey
from PIL import Image
from qrcode.image.svg import SvgPathImage

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from certificates.qr import build_matrix, qr_version, render, render_png, render_svg
from training.clock import CHINA_SECONDS as CHINA

BASES = ("HTTP://127.0.0.1:5000", "HTTPS://VERIFY.EXAMPLE.GOV.CN", "HTTPS://AQ.EXAMPLE.CN")
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志"


def make_token(rng: random.Random, key: SigningKey, kid: bytes) -> bytes:
    length = rng.choice((2, 2, 3, 3, 3, 4))  # 4: a compound surname and two given characters
    surname = rng.choice(COMPOUND_SURNAMES if length == 4 else SURNAMES)
    name = surname + "".join(rng.choice(GIVEN) for _ in range(length - len(surname)))
    issued = 1_764_000_000 + rng.randint(0, 10**7)
    protected = cbor2.dumps({1: -8, 4: kid})
    claims = {
        1: os.urandom(8).hex(),  # organisation id: training.db.new_id's 16 hex characters
        4: issued + 6 * 365 * 86400 - CHINA,
        6: issued,
        7: rng.randbytes(10),
        -65537: {
            1: rng.randint(1, 40),
            2: name,
            3: "%06d********%03d%s"
            % (rng.randint(110000, 659999), rng.randint(0, 999), rng.choice("0123456789X")),
            4: issued + 3 * 365 * 86400 - CHINA,
        },
    }
    payload = cbor2.dumps(claims)
    signature = key.sign(cbor2.dumps(["Signature1", protected, b"", payload])).signature
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def make_texts(count: int, seed: int = 2025):
    rng = random.Random(seed)
    key = SigningKey.generate()
    kid = os.urandom(8)
    tokens = [make_token(rng, key, kid) for _ in range(count)]
    texts = [f"{BASES[i % len(BASES)]}/V/{int.from_bytes(t, 'big')}" for i, t in enumerate(tokens)]
    return tokens, texts


def largest_token_at(version: int, base: str) -> int:
    """Bytes in the largest token whose text stays at ``version``: 0xD2 then all 0xFF, the most
    digits a token of that length can need."""
    def digits(n: int) -> int:
        return int.from_bytes(bytes([0xD2]) + bytes([0xFF]) * (n - 1), "big")

    fits = [n for n in range(100, 300) if qr_version(f"{base}/V/{digits(n)}") <= version]
    return max(fits)


def rates(renderers, rounds: int) -> dict:
    """Median codes/s of each (render, texts) pair. Rounds are interleaved, so that a noisy
    neighbour on a shared machine slows every contender alike and the ratios hold."""
    seen = collections.defaultdict(list)
    for _ in range(rounds):
        for renderer, texts in renderers:
            start = time.perf_counter()
            for text in texts:
                renderer(text)
            seen[renderer].append(len(texts) / (time.perf_counter() - start))
    return {renderer: statistics.median(values) for renderer, values in seen.items()}


def stock_png(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(text)
    out = io.BytesIO()
    code.make_image().save(out, "PNG")
    return out.getvalue()


def stock_svg(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(text)
    return code.make_image(image_factory=SvgPathImage).to_string()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tokens, texts = make_texts(args.texts)
    sizes = sorted(map(len, tokens))
    print(
        f"{len(texts)} realistic texts: tokens {sizes[0]}-{sizes[-1]} bytes (median "
        f"{statistics.median(sizes):.0f}), Chinese names of 2-4 characters, {len(BASES)} base URLs"
    )

    # Every rendering must decode exactly; check a sample before timing anything.
    for text in texts[:30]:
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(render_png(text))), formats=zxingcpp.BarcodeFormat.QRCode)
        assert decoded and decoded[0].text == text, "a rendering did not decode to its text"

    baseline_texts = texts[: max(30, len(texts) // 5)]  # the stock path is slow: fewer texts
    measured = rates(
        [(stock_png, baseline_texts), (stock_svg, baseline_texts)]
        + [(ours, texts) for ours in (render_png, render_svg, render, build_matrix)],
        args.rounds,
    )
    stock_png_rate, stock_svg_rate = measured[stock_png], measured[stock_svg]
    stock_both_rate = 1 / (1 / stock_png_rate + 1 / stock_svg_rate)
    rows = (
        ("qrcode stock: add_data, make_image, PIL PNG", stock_png_rate, stock_png_rate),
        ("certificates.qr.render_png (box 4, border 4)", measured[render_png], stock_png_rate),
        ("qrcode stock: make_image(SvgPathImage)", stock_svg_rate, stock_svg_rate),
        ("certificates.qr.render_svg", measured[render_svg], stock_svg_rate),
        ("qrcode stock: PNG and SVG, two symbols", stock_both_rate, stock_both_rate),
        ("certificates.qr.render (PNG and SVG, one symbol)", measured[render], stock_both_rate),
        ("certificates.qr.build_matrix (no image)", measured[build_matrix], stock_png_rate),
    )
    print(f"\n{'one core, median of %d rounds' % args.rounds:50} {'codes/s':>9} {'vs stock':>9}")
    for label, value, base in rows:
        print(f"{label:50} {value:9.0f} {value / base:8.1f}x")

    print("\nQR version at error correction M")
    by_base = collections.defaultdict(collections.Counter)
    for text in texts:
        by_base[text.split("/V/")[0]][qr_version(text)] += 1
    versions = sorted({v for counter in by_base.values() for v in counter})
    print(f"{'base URL':32}" + "".join(f"{'v%d' % v:>6}" for v in versions))
    for base in BASES:
        print(f"{base:32}" + "".join(f"{by_base[base][v]:6d}" for v in versions))
    total = collections.Counter(qr_version(t) for t in texts)
    print(f"{'all':32}" + "".join(f"{total[v]:6d}" for v in versions))
    for base in BASES:
        print(f"largest token still at v10 under {base}: {largest_token_at(10, base)} bytes")
    stock_versions = collections.Counter()
    for text in baseline_texts:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(text)
        stock_versions[code.best_fit() - qr_version(text)] += 1
    print(f"stock qrcode's version minus ours, {len(baseline_texts)} texts: {dict(stock_versions)}")


if __name__ == "__main__":
    main()
