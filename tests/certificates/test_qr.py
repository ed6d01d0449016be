"""QR symbols: exact round trips through a real decoder, and agreement with qrcode's encoder."""

import hashlib
import io
import random
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
import qrcode
import zxingcpp
from hypothesis import given, settings, strategies as st
from PIL import Image, ImageDraw
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, MODE_NUMBER, QRData, lost_point

from certificates.qr import QrMatrix, build_matrix, matrix_png, matrix_svg, qr_version, render, render_png, render_svg

BASES = (
    "HTTP://127.0.0.1:5000",
    "HTTPS://VERIFY.EXAMPLE.GOV.CN",
    "HTTPS://AQ.EXAMPLE.CN",
    "HTTP://LOCALHOST:8000",
)


def make_token(rng: random.Random, size: int) -> bytes:
    # A tagged COSE_Sign1 starts with 0xD2 (docs/token.md).
    return b"\xd2" + rng.randbytes(size - 1)


def make_qr_text(base: str, token: bytes) -> str:
    return f"{base}/V/{int.from_bytes(token, 'big')}"


def realistic_texts(count: int, seed: int):
    rng = random.Random(seed)
    return [
        make_qr_text(rng.choice(BASES), make_token(rng, rng.randint(150, 200)))
        for _ in range(count)
    ]


def short_id(text: str) -> str:
    """A test id that names the base URL and the length, not 450 digits."""
    return f"{text.split('/V/')[0]}+{len(text)}"


def decode(image: Image.Image):
    """The one QR code in the image. QR only: reading every format, zxing's 1D readers now and
    then also "find" a short linear code in a QR's modules (about 7 certificate PNGs in 1,000),
    the decoder's guess, not the image's content."""
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "expected exactly one QR code"
    return results[0]


def qrcode_reference(text: str, version: int, mask: int):
    """qrcode's own symbol for ``text`` with the segments the token format calls for."""
    reference = qrcode.QRCode(
        version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=mask
    )
    prefix = text.rstrip("0123456789")
    if re.fullmatch(r"[0-9A-Z $%*+\-./:]+", prefix) and len(text) - len(prefix) > 20:
        reference.add_data(QRData(prefix.encode(), mode=MODE_ALPHA_NUM))
        reference.add_data(QRData(text[len(prefix) :].encode(), mode=MODE_NUMBER))
    else:
        reference.add_data(QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE))
    reference.make(fit=False)
    return tuple("".join("1" if dark else "0" for dark in row) for row in reference.modules)


def rasterise_svg(svg: bytes, scale: int = 4) -> Image.Image:
    """Fill the SVG path's subpaths (axis-aligned rectangles, M/m/h/v/z) on a white canvas."""
    root = ET.fromstring(svg)
    side = int(root.get("viewBox").split()[2])
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    x = y = 0
    corners = []
    for command, args in re.findall(r"([MmhvzZ])([^MmhvzZ]*)", path):
        numbers = [int(n) for n in args.replace(",", " ").split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            x += numbers[0]
        elif command == "v":
            y += numbers[0]
        if command in "Mm":
            corners = [(x, y)]
        elif command in "hv":
            corners.append((x, y))
        else:  # z: fill the subpath's bounding box, then return to its start
            xs, ys = zip(*corners)
            box = (min(xs) * scale, min(ys) * scale, max(xs) * scale - 1, max(ys) * scale - 1)
            draw.rectangle(box, fill=0)
            x, y = corners[0]
    return image


@pytest.mark.parametrize("text", realistic_texts(48, seed=1), ids=short_id)
def test_render_png_decodes_to_exactly_the_text(text):
    assert decode(Image.open(io.BytesIO(render_png(text)))).text == text


@pytest.mark.parametrize("text", realistic_texts(8, seed=2), ids=short_id)
def test_render_svg_decodes_to_exactly_the_text(text):
    assert decode(rasterise_svg(render_svg(text))).text == text


def test_render_svg_is_xml_with_a_viewbox_and_the_right_module_count():
    text = realistic_texts(1, seed=3)[0]
    matrix = build_matrix(text)
    root = ET.fromstring(render_svg(text, border=4))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == f"0 0 {matrix.size + 8} {matrix.size + 8}"
    assert matrix.size == 4 * matrix.version + 17
    image = rasterise_svg(render_svg(text), scale=1)
    for y, row in enumerate(matrix.rows):
        drawn = "".join(
            "1" if image.getpixel((x + 4, y + 4)) == 0 else "0" for x in range(matrix.size)
        )
        assert drawn == row


@pytest.mark.parametrize("box,border", [(1, 0), (1, 4), (3, 2), (4, 4), (10, 1)])
def test_render_png_puts_every_module_where_the_matrix_says(box, border):
    text = realistic_texts(1, seed=4)[0]
    matrix = build_matrix(text)
    image = Image.open(io.BytesIO(render_png(text, box=box, border=border))).convert("L")
    side = (matrix.size + 2 * border) * box
    assert image.size == (side, side)
    for y in range(matrix.size + 2 * border):
        for x in range(matrix.size + 2 * border):
            inside = border <= x < border + matrix.size and border <= y < border + matrix.size
            dark = inside and matrix.is_dark(y - border, x - border)
            # Check both corners of the box so that a one-pixel shift would show.
            for px, py in ((x * box, y * box), (x * box + box - 1, y * box + box - 1)):
                assert image.getpixel((px, py)) == (0 if dark else 255), (x, y)


def test_render_png_is_a_one_bit_greyscale_png():
    png = render_png(realistic_texts(1, seed=5)[0])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).mode == "1"


@pytest.mark.parametrize(
    "text", realistic_texts(6, seed=6) + ["HTTP://A.CN/V/12345678901234567890123"], ids=short_id
)
def test_build_matrix_matches_qrcode_module_for_module(text):
    matrix = build_matrix(text)
    assert matrix.rows == qrcode_reference(text, matrix.version, matrix.mask)


@pytest.mark.parametrize("text", realistic_texts(3, seed=7), ids=short_id)
def test_build_matrix_picks_the_mask_with_the_lowest_penalty(text):
    matrix = build_matrix(text)
    symbols = [qrcode_reference(text, matrix.version, mask) for mask in range(8)]
    penalties = [lost_point([[c == "1" for c in row] for row in rows]) for rows in symbols]
    assert matrix.mask == penalties.index(min(penalties))


def test_qr_version_of_a_typical_token_is_at_most_10():
    rng = random.Random(8)
    for base in ("HTTP://127.0.0.1:5000", "HTTPS://VERIFY.EXAMPLE.GOV.CN"):
        for _ in range(20):
            text = make_qr_text(base, make_token(rng, 173))
            assert qr_version(text) <= 10
            assert build_matrix(text).version == qr_version(text)


def test_qr_version_is_the_smallest_that_fits():
    # Numeric mode for the digits is what keeps the version down: the same token in byte mode
    # needs a larger symbol.
    text = realistic_texts(1, seed=9)[0]
    version = qr_version(text)
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    prefix = text.rstrip("0123456789")
    reference.add_data(QRData(prefix.encode(), mode=MODE_ALPHA_NUM))
    reference.add_data(QRData(text[len(prefix) :].encode(), mode=MODE_NUMBER))
    assert version == reference.best_fit()
    assert qr_version(text.lower()) > version


def test_bare_decimal_token_encodes_in_numeric_mode():
    digits = str(int.from_bytes(make_token(random.Random(10), 173), "big"))
    assert decode(Image.open(io.BytesIO(render_png(digits)))).text == digits
    assert qr_version(digits) <= 10


@pytest.mark.parametrize(
    "text",
    [
        "https://verify.example.gov.cn/v/abc_DEF-123",
        "张伟 低压电工作业 410881********123X",
        "a\nb\tc",
        "HELLO",
    ],
)
def test_texts_of_any_shape_still_encode(text):
    result = decode(Image.open(io.BytesIO(render_png(text))))
    assert result.bytes == text.encode("utf-8")


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_any_string_gives_qrcodes_own_symbol(text):
    matrix = build_matrix(text)
    if re.fullmatch(r"[0-9A-Z $%*+\-./:]*", text):
        return  # alphanumeric texts are covered by the tests above
    assert matrix.rows == qrcode_reference(text, matrix.version, matrix.mask)


def test_text_too_long_for_any_version_is_refused():
    with pytest.raises(ValueError):
        build_matrix("x" * 3000)


def test_render_refuses_a_zero_box():
    with pytest.raises(ValueError):
        render_png("HELLO", box=0)


# --- PNG and SVG from one symbol -------------------------------------------------------------

GOLDEN_TEXTS = realistic_texts(2, seed=30) + ["HELLO", "张伟 低压电工作业 410881********123X"]
# SHA-256 (first 32 hex digits) of what the renderer made before issuance built one symbol for
# both images (each image then built its own): the PNG's chunks with IDAT decompressed, so that
# another zlib build does not matter, and the SVG's bytes.
GOLDEN = [
    (0, 4, 4, "161169c35836b4566089ddf101720e7a", "027cf30c840e9b3013b880c2c260feb0"),
    (0, 3, 1, "7476f49eeaafe0fe2e321b6bf932bfee", "eb3e2c0abeb6ea087c1a4fb1982a5177"),
    (1, 4, 4, "2123327a49dce8055326f2c7985a4570", "418f0acaaf911fa2473699e675b861d1"),
    (1, 3, 1, "7b7063caa592e97cc13cbd76c005eb8b", "bf844a92afaf130cb53246f55aabddb3"),
    (2, 4, 4, "80e5c29c2a39cc2a21c0b0e3708a1dea", "ad1b57fea7fc5ba16c12454abad225f1"),
    (2, 3, 1, "ca9a5c4393fdf7d9117c885d06a4b456", "b0f88f743fd75f37b3c917e61d9dce34"),
    (3, 4, 4, "05bd88f28ac574513c7d6c5428b0fd84", "f8e0f1cbdded9ed0c5dab0b0dc84d020"),
    (3, 3, 1, "40a53e094ce5fcc0844f6909a29e6336", "91217a24a409f320b2c9a7febdbba109"),
]


def png_content(png: bytes) -> bytes:
    chunks, pos = [], 8
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos : pos + 4]), png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + length]
        chunks.append(kind + (zlib.decompress(body) if kind == b"IDAT" else body))
        pos += 12 + length
    return b"".join(chunks)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


@pytest.mark.parametrize("index,box,border,png_digest,svg_digest", GOLDEN)
def test_render_from_one_symbol_equals_the_earlier_renderings(index, box, border, png_digest, svg_digest):
    version, png, svg = render(GOLDEN_TEXTS[index], box, border)
    assert digest(png_content(png)) == png_digest and digest(svg) == svg_digest
    assert version == qr_version(GOLDEN_TEXTS[index])


@pytest.mark.parametrize("text", realistic_texts(6, seed=31) + ["HELLO", "a\nb"], ids=short_id)
def test_render_is_the_version_png_and_svg_of_one_symbol(text):
    matrix = build_matrix(text)
    assert render(text) == (matrix.version, render_png(text), render_svg(text))
    assert render(text, 3, 1) == (qr_version(text), matrix_png(matrix, 3, 1), matrix_svg(matrix, 3, 1))


@pytest.mark.parametrize("text", realistic_texts(4, seed=32), ids=short_id)
def test_png_and_svg_from_one_symbol_decode_to_exactly_the_text(text):
    _, png, svg = render(text)
    assert decode(Image.open(io.BytesIO(png))).text == text
    assert decode(rasterise_svg(svg)).text == text


def test_svg_path_of_a_small_matrix():
    # An empty row draws nothing; each row starts with an absolute move, each later strip moves
    # by the run before it plus the gap; a row's last run ends without a move.
    matrix = QrMatrix(version=1, mask=0, rows=("0000", "1111", "1011", "0110"))
    path = ET.fromstring(matrix_svg(matrix, box=1, border=1)).find("{http://www.w3.org/2000/svg}path")
    assert path.get("d") == "M1 2h4v1h-4zM1 3h1v1h-1zm2 0h2v1h-2zM2 4h2v1h-2z"
    long_runs = QrMatrix(version=1, mask=0, rows=("1" * 9 + "0" * 7 + "1" * 3 + "0",))
    assert 'd="M0 0h9v1h-9zm16 0h3v1h-3z"' in matrix_svg(long_runs, border=0).decode()


def test_matrix_renderers_refuse_a_zero_box():
    matrix = build_matrix("HELLO")
    with pytest.raises(ValueError):
        matrix_png(matrix, box=0)
    with pytest.raises(ValueError):
        matrix_svg(matrix, border=-1)
