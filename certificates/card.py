"""The printable certificate card: one A6 portrait page per certificate, as PDF.

Role: lay out a certificate's printed face (title, the holder's fields under Chinese labels, the
QR code drawn as vector modules, a thin frame) and, when the certificate is no longer valid, a
diagonal watermark that no one can miss. A class's cards print as one PDF, one page each.

Must not: look anything up, sign, or decide a certificate's status (the caller hands in
``CardData`` as the registry has it); print a full identity number (``CardData`` accepts only a
masked one and refuses anything else).

Fonts: when the machine has a TrueType CJK font (``ANZHENG_CARD_FONT``, or Debian's
fonts-wqy-microhei), the glyphs a card uses are embedded, so every viewer (pdf.js included) shows
them. Otherwise the card names the standard CID font ``STSong-Light``, which Adobe Reader and
most phone viewers supply, and stays a few kilobytes.
"""

import io
import os
import re
from dataclasses import dataclass
from datetime import date

from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from certificates.qr import build_matrix

_TRUETYPE_CANDIDATES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _register_cjk_font() -> str:
    """The CJK font cards use: an embeddable TrueType font when there is one, else the CID font."""
    from reportlab.pdfbase.ttfonts import TTFError, TTFont
    chosen = os.environ.get("ANZHENG_CARD_FONT")
    for path in ([chosen] if chosen else []) + list(_TRUETYPE_CANDIDATES):
        if path and os.path.exists(path):
            try:
                pdfmetrics.registerFont(TTFont("AnzhengCJK", path, subfontIndex=0))
                return "AnzhengCJK"
            except TTFError:
                continue  # not TrueType outlines (e.g. an OpenType CFF font): try the next
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


_CJK = _register_cjk_font()
_LATIN = "Helvetica"
_MONO = "Courier-Bold"

_RED = Color(0.62, 0.09, 0.09)
_GREY = Color(0.35, 0.35, 0.35)
_RULE = Color(0.62, 0.09, 0.09, alpha=0.55)

# The token format's masking: first 6 and last 4 characters kept, the rest starred. Demanding
# stars here, not trusting callers, is what keeps a full number off every printed card.
_MASKED_ID = re.compile(r"[0-9A-Za-z]{0,6}\*{4,}[0-9A-Za-z]{0,4}")

# What the watermark says for each status that is not "valid"; anything unknown is still marked.
_WATERMARKS = {
    "revoked": ("已撤销", "REVOKED"),
    "suspended": ("已暂停", "SUSPENDED"),
    "expired": ("已过期", "EXPIRED"),
}
_UNKNOWN_STATUS = ("失效", "NOT VALID")

_QR_SIDE = 40 * mm  # the symbol without its quiet zone; 35 mm is the least that scans from paper


@dataclass(frozen=True)
class CardData:
    """What a card prints. ``holder_id_masked`` must already be masked."""

    serial: str
    holder_name: str
    holder_id_masked: str
    category_name: str
    category_code: str
    issuer_name: str
    issued_on: date
    valid_until: date
    review_due: date
    qr_text: str
    status: str
    review_required: bool = True  # False: renewed at expiry, never reviewed (the 2026 rules)

    def __post_init__(self):
        if not _MASKED_ID.fullmatch(self.holder_id_masked):
            raise ValueError(
                "holder_id_masked must be a masked identity number, e.g. 410881********123X"
            )


def render_card(card: CardData) -> bytes:
    """One certificate as a one-page A6 PDF."""
    return render_cards([card])


def render_cards(cards) -> bytes:
    """Several certificates (a whole class) as one PDF, one A6 page each, in the order given."""
    cards = list(cards)
    if not cards:
        raise ValueError("no cards to render")
    out = io.BytesIO()
    # invariant: no timestamp or random document id, so the same cards give the same bytes.
    canvas = Canvas(out, pagesize=A6, pageCompression=1, invariant=1)
    canvas.setTitle("安全培训合格证 Safety Training Certificate")
    canvas.setCreator("anzheng")
    for card in cards:
        _draw_card(canvas, card)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_card(canvas: Canvas, card: CardData) -> None:
    width, height = A6
    _draw_frame(canvas, width, height)

    _draw_heavy_cjk(canvas, width / 2, height - 19 * mm, "安全培训合格证", 18, _RED, char_space=3)
    canvas.setFillColor(_GREY)
    canvas.setFont(_LATIN, 7.5)
    canvas.drawCentredString(
        width / 2, height - 24 * mm, "Safety Training Certificate", charSpace=0.6
    )
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    canvas.line(12 * mm, height - 27.5 * mm, width - 12 * mm, height - 27.5 * mm)

    rows = (
        ("姓名", card.holder_name, _CJK, 11),
        ("身份证号", card.holder_id_masked, _LATIN, 9.5),
        ("培训类别", card.category_name, _CJK, 10),
        ("发证机构", card.issuer_name, _CJK, 9.5),
        ("证书编号", card.serial, _MONO, 10),
        ("发证日期", card.issued_on.isoformat(), _LATIN, 9.5),
        ("有效期至", card.valid_until.isoformat(), _LATIN, 9.5),
        ("复审日期", card.review_due.isoformat(), _LATIN, 9.5) if card.review_required else
        ("复审日期", "无需复审，到期换证", _CJK, 9.5),
    )
    label_x, value_x, right = 13 * mm, 33 * mm, width - 12 * mm
    y = height - 34 * mm
    for label, value, font, size in rows:
        canvas.setFillColor(_GREY)
        _draw_spread(canvas, label_x, y, 14 * mm, label, _CJK, 8.5)
        canvas.setFillColor(black)
        _draw_fitted(canvas, value_x, y, right - value_x, value, font, size)
        y -= 5.6 * mm

    qr_bottom = y - 2.5 * mm - _QR_SIDE
    quiet = _draw_qr(canvas, (width - _QR_SIDE) / 2, qr_bottom, card.qr_text)
    _draw_caption(canvas, width / 2, qr_bottom - quiet - 3.2 * mm)

    canvas.setFillColor(_GREY)
    canvas.setFont(_CJK, 6.5)
    canvas.drawCentredString(width / 2, 10.5 * mm, "本证信息以扫码核验结果为准，涂改无效")

    if card.status != "valid":
        _draw_watermark(canvas, width, height, _WATERMARKS.get(card.status, _UNKNOWN_STATUS))


def _draw_frame(canvas: Canvas, width: float, height: float) -> None:
    canvas.setStrokeColor(_RED)
    canvas.setLineWidth(1.0)
    canvas.rect(5 * mm, 5 * mm, width - 10 * mm, height - 10 * mm, stroke=1, fill=0)
    canvas.setLineWidth(0.3)
    canvas.rect(6.2 * mm, 6.2 * mm, width - 12.4 * mm, height - 12.4 * mm, stroke=1, fill=0)


def _draw_qr(canvas: Canvas, x: float, y: float, qr_text: str) -> float:
    """Draw the symbol with its lower left corner at (x, y); return the quiet zone's width."""
    matrix = build_matrix(qr_text)
    module = _QR_SIDE / matrix.size
    quiet = 4 * module
    # The quiet zone is painted white so that nothing drawn later near the code can eat into it.
    canvas.setFillColor(white)
    canvas.rect(x - quiet, y - quiet, _QR_SIDE + 2 * quiet, _QR_SIDE + 2 * quiet, stroke=0, fill=1)
    # One path for all modules: separate rectangles leave hairline seams in anti-aliased viewers.
    path = canvas.beginPath()
    top = y + _QR_SIDE
    for row, col, length in matrix.dark_runs():
        path.rect(x + col * module, top - (row + 1) * module, length * module, module)
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)
    return quiet


def _draw_caption(canvas: Canvas, centre: float, y: float) -> None:
    chinese, english, gap = "扫码核验真伪", "Scan to verify", 2 * mm
    cjk_width = pdfmetrics.stringWidth(chinese, _CJK, 8.5)
    x = centre - (cjk_width + gap + pdfmetrics.stringWidth(english, _LATIN, 7.5)) / 2
    canvas.setFillColor(black)
    canvas.setFont(_CJK, 8.5)
    canvas.drawString(x, y, chinese)
    canvas.setFillColor(_GREY)
    canvas.setFont(_LATIN, 7.5)
    canvas.drawString(x + cjk_width + gap, y, english)


def _draw_watermark(canvas: Canvas, width: float, height: float, words) -> None:
    chinese, english = words
    ink = Color(0.8, 0.05, 0.05, alpha=0.45)
    canvas.saveState()
    canvas.translate(width / 2, height / 2)
    canvas.rotate(52)  # about the page's diagonal
    canvas.setFillColor(ink)
    canvas.setStrokeColor(ink)
    # Plain fill: a stroked outline over a translucent fill shows up as a second, darker edge.
    canvas.setFont(_CJK, 44)
    canvas.drawCentredString(0, 0, chinese, charSpace=8)
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawCentredString(0, -10 * mm, english, charSpace=4)
    # A frame round both lines, as a rubber stamp has.
    box = max(
        pdfmetrics.stringWidth(chinese, _CJK, 44) + 8 * (len(chinese) - 1),
        pdfmetrics.stringWidth(english, "Helvetica-Bold", 20) + 4 * (len(english) - 1),
    )
    canvas.setLineWidth(2.5)
    canvas.roundRect(-box / 2 - 5 * mm, -14 * mm, box + 10 * mm, 33 * mm, 3 * mm, stroke=1, fill=0)
    canvas.restoreState()


def _draw_heavy_cjk(canvas: Canvas, centre, y, text: str, size: float, ink, char_space=0):
    """Centred CJK text, filled and stroked: STSong-Light has no bold face of its own."""
    width = pdfmetrics.stringWidth(text, _CJK, size) + char_space * (len(text) - 1)
    canvas.saveState()
    canvas.setFillColor(ink)
    canvas.setStrokeColor(ink)
    canvas.setLineWidth(size / 40)
    text_object = canvas.beginText(centre - width / 2, y)
    text_object.setTextRenderMode(2)
    text_object.setFont(_CJK, size)
    text_object.setCharSpace(char_space)
    text_object.textOut(text)
    canvas.drawText(text_object)
    canvas.restoreState()


def _draw_spread(canvas: Canvas, x: float, y: float, width: float, text: str, font: str, size):
    """A label spread evenly across ``width``, as Chinese forms align 2- and 4-character labels."""
    # One string with character spacing, not one call per character: copied or extracted text
    # then still reads as the word.
    gap = (width - pdfmetrics.stringWidth(text, font, size)) / max(len(text) - 1, 1)
    canvas.setFont(font, size)
    canvas.drawString(x, y, text, charSpace=gap)


def _draw_fitted(canvas: Canvas, x: float, y: float, width: float, text: str, font: str, size):
    """Shrink a long value (an issuer's full name) to fit; past 6 pt, wrap onto a second line."""
    natural = pdfmetrics.stringWidth(text, font, size)
    if natural > width:
        size = max(6.0, size * width / natural)
    if pdfmetrics.stringWidth(text, font, size) <= width:
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        return
    # Nothing is cut off: an official name is printed whole or not at all.
    split = len(text)
    while split > 1 and pdfmetrics.stringWidth(text[:split], font, size) > width:
        split -= 1
    canvas.setFont(font, size)
    canvas.drawString(x, y + size * 0.55, text[:split])
    canvas.drawString(x, y - size * 0.6, text[split:])
