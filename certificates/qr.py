"""QR symbols for certificate texts: the module matrix, and PNG and SVG renderings of it.

Role: turn a certificate's ``qr_text`` (docs/token.md: an upper-case URL prefix, then the token as
decimal digits) into the smallest QR symbol at error correction M, the prefix in alphanumeric mode
and the digits in numeric mode. Any other text still encodes (alphanumeric or byte mode), so a
caller never has to pre-check what it hands in. Rendering happens once at issue time: ``render``
draws the PNG and the SVG from one symbol (building it is most of the cost) and the caller stores
the bytes.

Must not: know about tokens, keys, certificates or the database; cache per-text results (the
issuer caches the rendered bytes, a second cache here would only hold memory).

Why not ``qrcode.QRCode.make``: it rebuilds the symbol in Python loops once per mask to choose one,
30-50 codes/s. Here a symbol is one big integer, row-major with a zero guard bit after each row,
so masking and all four ISO/IEC 18004 penalty rules are a few dozen whole-symbol integer
operations, and every mask is still scored as the standard asks. The standard's tables (blocks,
capacities, generator polynomials, alignment positions, BCH codes) come from qrcode, and the tests
check our matrix against qrcode's own for every mask.
"""

import functools
import re
import struct
import zlib
from dataclasses import dataclass
from operator import itemgetter

from qrcode import LUT, base, constants, util

# qrcode's constant for M is also M's two format-information bits (00).
_EC = constants.ERROR_CORRECT_M

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_VALUE = {c: i for i, c in enumerate(_ALNUM)}
_ALNUM_TEXT = re.compile(r"[0-9A-Z $%*+\-./:]*")
_DARK_RUN = re.compile("1+")
# A dark run with the light gap after it, where another dark run follows.
_RUN_AND_GAP = re.compile("1+0+(?=1)")
# A token is ~150 groups of three digits; a table lookup beats int() and format() on each.
_THREE_DIGITS = re.compile("[0-9]{3}")
_DIGIT_TRIPLES = {"%03d" % i: format(i, "010b") for i in range(1000)}


@dataclass(frozen=True)
class QrMatrix:
    """A finished symbol, without its quiet zone."""

    version: int
    mask: int
    rows: tuple[str, ...]  # one string per row, "1" a dark module, "0" a light one

    @property
    def size(self) -> int:
        return len(self.rows)

    def is_dark(self, row: int, col: int) -> bool:
        return self.rows[row][col] == "1"

    def dark_runs(self):
        """(row, col, length) of each horizontal run of dark modules: what a drawing needs."""
        for y, row in enumerate(self.rows):
            for run in _DARK_RUN.finditer(row):
                yield y, run.start(), run.end() - run.start()


def build_matrix(qr_text: str) -> QrMatrix:
    """The smallest QR symbol at error correction M for ``qr_text``, mask chosen by penalty."""
    segments = _segments(qr_text)
    version = _fit(segments)
    layout = _layout(version)
    code = _codewords(segments, version)
    # Remainder bits after the last codeword are zero; the trailing "0" is what every
    # non-data position of the symbol reads from the scatter below.
    bits = format(int.from_bytes(code, "big"), "0%db" % (8 * len(code)))
    bits += "0" * (layout.data_cells - len(bits) + 1)
    data = int("".join(layout.scatter(bits)), 2)

    best = None
    for mask in range(8):
        symbol = layout.function[mask] | (data ^ layout.masks[mask])
        score = _penalty(symbol, layout.full, layout.stride, layout.size)
        if best is None or score < best[0]:  # ties keep the lower mask, as qrcode does
            best = (score, mask, symbol)
    _, mask, symbol = best
    n, stride = layout.size, layout.stride
    flat = format(symbol, "0%db" % (n * stride))
    return QrMatrix(version, mask, tuple(flat[r * stride : r * stride + n] for r in range(n)))


def qr_version(qr_text: str) -> int:
    """The QR version ``qr_text`` gets at error correction M."""
    return _fit(_segments(qr_text))


def render(qr_text: str, box: int = 4, border: int = 4) -> tuple[int, bytes, bytes]:
    """(version, PNG, SVG) of ``qr_text`` from one symbol: what issuance stores. Choosing the
    mask is most of a rendering's cost, so the two images must not build the symbol twice."""
    matrix = build_matrix(qr_text)
    return matrix.version, matrix_png(matrix, box, border), matrix_svg(matrix, box, border)


def render_png(qr_text: str, box: int = 4, border: int = 4) -> bytes:
    """A 1-bit greyscale PNG: ``box`` pixels per module, ``border`` modules of quiet zone."""
    _check_size(box, border)
    return matrix_png(build_matrix(qr_text), box, border)


def render_svg(qr_text: str, box: int = 4, border: int = 4) -> bytes:
    """A compact SVG: one path of dark runs, in module units (viewBox), black on white."""
    _check_size(box, border)
    return matrix_svg(build_matrix(qr_text), box, border)


def _check_size(box: int, border: int) -> None:
    if box < 1 or border < 0:
        raise ValueError("box must be at least 1 and border at least 0")


def matrix_png(matrix: QrMatrix, box: int = 4, border: int = 4) -> bytes:
    """``render_png`` of a symbol already built."""
    _check_size(box, border)
    modules = matrix.size + 2 * border
    width = modules * box
    row_bytes = (width + 7) // 8
    # Pack every row, padded to whole bytes of modules, into one integer, then widen each byte
    # to ``box`` bytes by table: far quicker than widening characters one by one.
    padded = -(-modules // 8) * 8
    quiet, tail = "0" * border, "0" * (border + padded - modules)
    packed = int(quiet + (tail + quiet).join(matrix.rows) + tail, 2).to_bytes(
        padded // 8 * matrix.size, "big"
    )
    wide = b"".join(map(_widened_bytes(box).__getitem__, packed))
    # Each pixel row starts with its filter type. A module row's first pixel row is stored as is
    # (0), its repeats as "same as the row above" (2, Up): all zeros, which deflate to nothing.
    blank = b"\x00" + b"\xff" * row_bytes
    repeat = b"\x02" + bytes(row_bytes)
    quiet_rows = [blank] + [repeat] * (border * box - 1) if border else []
    lines = list(quiet_rows)
    for start in range(0, len(wide), padded // 8 * box):
        lines.append(b"\x00" + wide[start : start + row_bytes])
        lines += [repeat] * (box - 1)
    lines += quiet_rows
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(b"".join(lines), 6)),
            _png_chunk(b"IEND", b""),
        )
    )


@functools.cache
def _widened_bytes(box: int) -> list[bytes]:
    """Eight modules (one byte, 1 = dark) to ``box`` bytes of pixels, where a 1 bit is white."""
    table = []
    for value in range(256):
        bits = "".join(("0" if bit == "1" else "1") * box for bit in format(value, "08b"))
        table.append(int(bits, 2).to_bytes(box, "big"))
    return table


def matrix_svg(matrix: QrMatrix, box: int = 4, border: int = 4) -> bytes:
    """``render_svg`` of a symbol already built."""
    _check_size(box, border)
    side = matrix.size + 2 * border
    # One unit square strip per dark run; relative moves within a row keep the numbers short.
    # "z" returns to the strip's corner, so the move to the next strip is the run plus the gap
    # after it. findall hands over each such run-and-gap as one string and a table turns it into
    # its path text, so there is no Python step per run (formatting run by run was most of the
    # cost); the row's last run, with no move after it, is written on its own.
    parts = []
    for y, row in enumerate(matrix.rows):
        x = row.find("1")
        if x < 0:
            continue
        body = row.rstrip("0")
        last = len(body) - len(body.rstrip("1"))
        parts.append("M%d %d" % (x + border, y + border))
        parts += map(_SVG_STRIPS.__getitem__, _RUN_AND_GAP.findall(body, x))
        parts.append("h%dv1h-%dz" % (last, last))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" '
        'shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/>'
        '<path fill="#000" d="%s"/></svg>\n'
        % (side, side, side * box, side * box, side, side, "".join(parts))
    ).encode("ascii")


class _SvgStrips(dict):
    """A run and the gap after it ("1110000") -> the run's strip and the move past the gap; filled
    as they first occur (long runs are rare, so it stays small)."""

    def __missing__(self, run_and_gap: str) -> str:
        run = len(run_and_gap.rstrip("0"))
        text = self[run_and_gap] = "h%dv1h-%dzm%d 0" % (run, run, len(run_and_gap))
        return text


_SVG_STRIPS = _SvgStrips()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# --- segments and codewords ---------------------------------------------------------------


def _segments(text: str):
    """(mode, character count, payload bits) per segment, the cheaper of the splits we know."""
    if not _ALNUM_TEXT.fullmatch(text):
        data = text.encode("utf-8")
        payload = format(int.from_bytes(data, "big"), "0%db" % (8 * len(data))) if data else ""
        return ((util.MODE_8BIT_BYTE, len(data), payload),)
    # rstrip with ASCII digits, not a lazy regex: "(.*?)([0-9]*)" backtracks in quadratic time.
    prefix = text.rstrip("0123456789")
    digits = text[len(prefix) :]
    # Splitting off the digits costs one more segment header and saves about 2.2 bits a digit.
    # Headers are costed at versions 10-26, where certificate texts land; elsewhere they differ
    # by a bit or two, which can only matter for a handful of digits.
    alnum_head = 4 + util.length_in_bits(util.MODE_ALPHA_NUM, 10)
    numeric_head = 4 + util.length_in_bits(util.MODE_NUMBER, 10)
    whole_bits = alnum_head + _alnum_bits(len(text))
    split_bits = numeric_head + _numeric_bits(len(digits))
    if prefix:
        split_bits += alnum_head + _alnum_bits(len(prefix))
    if not digits or whole_bits <= split_bits:
        return (_alnum(text),)
    return ((_alnum(prefix),) if prefix else ()) + (_numeric(digits),)


def _alnum_bits(length: int) -> int:
    return 11 * (length // 2) + 6 * (length % 2)


def _numeric_bits(length: int) -> int:
    return 10 * (length // 3) + (0, 4, 7)[length % 3]


def _alnum(text: str):
    values = [_ALNUM_VALUE[c] for c in text]
    bits = [format(45 * a + b, "011b") for a, b in zip(values[::2], values[1::2])]
    if len(values) % 2:
        bits.append(format(values[-1], "06b"))
    return util.MODE_ALPHA_NUM, len(text), "".join(bits)


def _numeric(digits: str):
    whole = len(digits) - len(digits) % 3
    bits = "".join(map(_DIGIT_TRIPLES.__getitem__, _THREE_DIGITS.findall(digits, 0, whole)))
    if whole < len(digits):  # one or two digits left: 4 or 7 bits
        bits += format(int(digits[whole:]), "04b" if len(digits) - whole == 1 else "07b")
    return util.MODE_NUMBER, len(digits), bits


def _bits_needed(segments, version: int) -> int:
    return sum(4 + util.length_in_bits(mode, version) + len(bits) for mode, _, bits in segments)


def _fit(segments) -> int:
    for version in range(1, 41):
        if _bits_needed(segments, version) <= util.BIT_LIMIT_TABLE[_EC][version]:
            return version
    raise ValueError("text too long for a QR code at error correction M")


def _codewords(segments, version: int) -> bytes:
    """Data codewords with terminator and padding, split into blocks, ECC added, interleaved."""
    bits = "".join(
        format(mode, "04b") + format(count, "0%db" % util.length_in_bits(mode, version)) + payload
        for mode, count, payload in segments
    )
    capacity = util.BIT_LIMIT_TABLE[_EC][version]
    bits += "0" * min(4, capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    pad = capacity // 8 - len(data)
    data += (b"\xec\x11" * (pad // 2 + 1))[:pad]

    data_blocks, ecc_blocks, offset = [], [], 0
    for block in base.rs_blocks(version, _EC):
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ecc_blocks.append(_ecc(chunk, block.total_count - block.data_count))
    return _interleave(data_blocks) + _interleave(ecc_blocks)


def _interleave(blocks: list[bytes]) -> bytes:
    """The i-th codeword of each block in turn, skipping blocks too short to have one (blocks
    differ in length by at most one codeword, the longer ones last)."""
    n, short = len(blocks), min(map(len, blocks))
    out = bytearray(n * short)
    for j, block in enumerate(blocks):
        out[j::n] = block[:short]  # one slice assignment per block, not a step per codeword
    for i in range(short, max(map(len, blocks))):
        out.extend(b[i] for b in blocks if i < len(b))
    return bytes(out)


@functools.cache
def _generator_rows(ecc_len: int):
    """For each feedback byte, the generator polynomial times it, as one ecc_len-byte integer."""
    generator = LUT.rsPoly_LUT[ecc_len][1:]  # monic: the leading 1 is implied
    exp, log = base.EXP_TABLE, base.LOG_TABLE
    rows = [0]
    for factor in range(1, 256):
        products = (0 if g == 0 else exp[(log[factor] + log[g]) % 255] for g in generator)
        rows.append(int.from_bytes(bytes(products), "big"))
    return rows


def _ecc(data: bytes, ecc_len: int) -> bytes:
    # Reed-Solomon remainder. Adding in GF(256) is XOR byte by byte, so the whole shift
    # register can be one integer and each step is a shift and one XOR with a table row.
    rows, top, keep = _generator_rows(ecc_len), 8 * (ecc_len - 1), (1 << 8 * ecc_len) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & keep) ^ rows[(remainder >> top) ^ byte]
    return remainder.to_bytes(ecc_len, "big")


# --- the symbol as an integer ---------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    size: int
    stride: int  # size + 1: the guard bit after each row stops shifts wrapping into the next row
    full: int  # every module position set
    function: tuple[int, ...]  # dark function modules, format information for each mask included
    masks: tuple[int, ...]  # each mask pattern, on data positions only
    data_cells: int
    scatter: itemgetter  # data bits (plus a final "0") -> every symbol position, row-major


@functools.cache
def _layout(version: int) -> _Layout:
    n = 4 * version + 17
    stride = n + 1
    fixed = {}
    for r0, c0 in ((0, 0), (0, n - 7), (n - 7, 0)):  # finders with their separators
        for r in range(max(r0 - 1, 0), min(r0 + 8, n)):
            for c in range(max(c0 - 1, 0), min(c0 + 8, n)):
                dr, dc = r - r0, c - c0
                ring = max(abs(dr - 3), abs(dc - 3))
                fixed[r, c] = ring != 2 and ring != 4
    centres = util.pattern_position(version)
    for r0 in centres:
        for c0 in centres:
            if (r0, c0) in fixed:  # would overlap a finder
                continue
            for r in range(r0 - 2, r0 + 3):
                for c in range(c0 - 2, c0 + 3):
                    fixed[r, c] = max(abs(r - r0), abs(c - c0)) != 1
    for i in range(8, n - 8):
        fixed.setdefault((6, i), i % 2 == 0)
        fixed.setdefault((i, 6), i % 2 == 0)
    format_cells = _format_cells(n)
    for cell in format_cells:
        fixed[cell] = False
    fixed[n - 8, 8] = True  # the dark module
    if version >= 7:
        info = util.BCH_type_number(version)
        for i in range(18):
            fixed[i // 3, i % 3 + n - 11] = fixed[i % 3 + n - 11, i // 3] = bool(info >> i & 1)

    order = []
    upward = True
    for col in range(n - 1, 0, -2):
        col -= col <= 6  # the vertical timing pattern shifts the column pairs left of it
        for r in range(n - 1, -1, -1) if upward else range(n):
            order.extend((r, c) for c in (col, col - 1) if (r, c) not in fixed)
        upward = not upward
    source = [len(order)] * (n * stride)
    for k, (r, c) in enumerate(order):
        source[r * stride + c] = k

    def to_int(cells) -> int:
        value = 0
        for r, c in cells:
            value |= 1 << (n * stride - 1 - (r * stride + c))
        return value

    dark_fixed = to_int(cell for cell, dark in fixed.items() if dark)
    function = []
    for mask in range(8):
        info = util.BCH_type_info((_EC << 3) | mask)
        lit = [cell for i, cell in enumerate(format_cells) if info >> (i % 15) & 1]
        function.append(dark_fixed | to_int(lit))
    masks = tuple(to_int(cell for cell in order if util.mask_func(m)(*cell)) for m in range(8))
    full = to_int((r, c) for r in range(n) for c in range(n))
    return _Layout(n, stride, full, tuple(function), masks, len(order), itemgetter(*source))


def _format_cells(n: int):
    """The 15 format bits' two copies, bit i at position i and 15 + i (qrcode's placement)."""
    first = [(i, 8) if i < 6 else (i + 1, 8) if i < 8 else (n - 15 + i, 8) for i in range(15)]
    second = [(8, n - 1 - i) if i < 8 else (8, 15 - i if i == 8 else 14 - i) for i in range(15)]
    return first + second


def _penalty(dark: int, full: int, stride: int, size: int) -> int:
    """ISO/IEC 18004 mask penalty (rules 1-4), scored over whole-symbol integers."""
    light = full ^ dark
    score = 0
    starts = {}  # (colour, step): modules starting two alike and four alike, reused by rule 3
    for name, colour in (("dark", dark), ("light", light)):
        for step in (1, stride):  # along rows, then down columns
            # A run of L >= 5 costs L - 2: its (L - 4) five-module windows, plus 2 for its end.
            two = colour & (colour >> step)
            four = two & (two >> 2 * step)
            windows = four & (colour >> 4 * step)
            ends = windows & ~(colour << step)
            score += windows.bit_count() + 2 * ends.bit_count()
            starts[name, step] = two, four
        blocks = colour & (colour >> 1) & (colour >> stride) & (colour >> (stride + 1))
        score += 3 * blocks.bit_count()
    for step in (1, stride):
        # Rule 3's two finder-like patterns, 10111010000 and 00001011101, share the 1:1:3:1:1
        # core: four light modules follow it in one and lead it in the other.
        dark_two, quiet = starts["dark", step][0], starts["light", step][1]
        core = (dark & (light >> step) & (dark_two >> 2 * step) & (dark >> 4 * step)
                & (light >> 5 * step) & (dark >> 6 * step))
        found = (core & (quiet >> 7 * step)).bit_count() + (quiet & (core >> 4 * step)).bit_count()
        score += 40 * found
    # Rule 4 in qrcode's float form, so both encoders agree on the boundary cases.
    percent = dark.bit_count() / (size * size)
    return score + int(abs(percent * 100 - 50) / 5) * 10
