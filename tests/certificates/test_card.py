"""Printable cards: a real PDF, A6, the right words on it, never a full identity number, and a QR
code that decodes from the rendered page (rasterised with pypdfium2, a pip package)."""

import dataclasses
import io
import random
import re
from datetime import date

import pypdf
import pypdfium2
import pytest
import zxingcpp

from certificates.card import CardData, render_card, render_cards

A6_POINTS = (297.64, 419.53)
LABELS = ("姓名", "身份证号", "培训类别", "发证机构", "证书编号", "发证日期", "有效期至", "复审日期")
FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def make_card(**overrides) -> CardData:
    token = b"\xd2" + random.Random(overrides.pop("seed", 1)).randbytes(172)
    fields = dict(
        serial="7K3M-9QX2-HD5T-WR4A",
        holder_name="张伟",
        holder_id_masked="410881********123X",
        category_name="低压电工作业",
        category_code="electrician_low_voltage",
        issuer_name="河南省新乡安全生产培训中心",
        issued_on=date(2025, 11, 29),
        valid_until=date(2031, 11, 28),
        review_due=date(2028, 11, 29),
        qr_text="HTTP://127.0.0.1:5000/V/" + str(int.from_bytes(token, "big")),
        status="valid",
    )
    fields.update(overrides)
    return CardData(**fields)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def scan_page(pdf: bytes, index: int = 0, scale: float = 2.0):
    """Rasterise one page and read the QR code on it, as a phone would read the printed card."""
    page = pypdfium2.PdfDocument(pdf)[index]
    image = page.render(scale=scale, grayscale=True).to_pil()
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "expected exactly one QR code on the card"
    return results[0]


def test_render_card_is_one_a6_portrait_page():
    reader = pypdf.PdfReader(io.BytesIO(render_card(make_card())))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A6_POINTS, abs=0.01)


def test_render_card_prints_the_title_labels_and_fields():
    card = make_card()
    text = page_texts(render_card(card))[0]
    compact = "".join(text.split())
    for words in ("安全培训合格证", "扫码核验真伪") + LABELS:
        assert words in compact
    for words in ("Safety Training Certificate", "Scan to verify"):
        assert words in text
    for value in (card.serial, card.holder_name, card.holder_id_masked, card.category_name,
                  card.issuer_name, "2025-11-29", "2031-11-28", "2028-11-29"):
        assert value in text


def test_render_card_never_prints_a_full_identity_number():
    text = page_texts(render_card(make_card()))[0]
    assert "410881********123X" in text
    assert not FULL_ID_NUMBER.search(text)
    assert not FULL_ID_NUMBER.search("".join(text.split()))


@pytest.mark.parametrize(
    "number", ["41088119900101123X", "410881199001011234", "410881 1990 0101 123X", ""]
)
def test_card_data_refuses_an_unmasked_identity_number(number):
    with pytest.raises(ValueError):
        make_card(holder_id_masked=number)


def test_render_card_qr_decodes_from_the_rendered_page():
    card = make_card()
    assert scan_page(render_card(card)).text == card.qr_text


def test_render_card_qr_is_at_least_35_mm_wide():
    scale = 2.0
    position = scan_page(render_card(make_card()), scale=scale).position
    width_px = position.top_right.x - position.top_left.x
    assert width_px / scale * 25.4 / 72 >= 35


def test_render_cards_gives_one_page_per_card_in_order():
    cards = [make_card(seed=i, serial=f"7K3M-9QX2-HD5T-WR{i}A", holder_name=name)
             for i, name in enumerate(["张伟", "王芳", "欧阳娜娜", "李强", "刘洋"])]
    pdf = render_cards(cards)
    texts = page_texts(pdf)
    assert len(texts) == len(cards)
    for card, text in zip(cards, texts):
        assert card.holder_name in text and card.serial in text
    assert scan_page(pdf, index=3).text == cards[3].qr_text


def test_render_cards_refuses_an_empty_class():
    with pytest.raises(ValueError):
        render_cards([])


@pytest.mark.parametrize(
    "status,words",
    [("revoked", "已撤销 REVOKED"), ("suspended", "已暂停 SUSPENDED"), ("expired", "已过期 EXPIRED"),
     ("something_new", "失效 NOT VALID")],
)
def test_card_not_valid_is_watermarked(status, words):
    text = page_texts(render_card(make_card(status=status)))[0]
    chinese, english = words.split(" ", 1)
    assert chinese in text and english in text


def test_valid_card_has_no_watermark():
    text = page_texts(render_card(make_card()))[0]
    for words in ("已撤销", "REVOKED", "失效", "NOT VALID", "已暂停", "已过期"):
        assert words not in text


def test_revoked_card_qr_still_decodes():
    # A revoked card is still scanned, and the verdict then says so.
    card = make_card(status="revoked")
    assert scan_page(render_card(card)).text == card.qr_text


def test_long_issuer_name_is_printed_whole():
    name = "中国石油天然气集团有限公司河南油田分公司安全生产培训与考核管理中心职工教育培训基地"
    text = page_texts(render_card(make_card(issuer_name=name)))[0]
    assert name in "".join(text.split())


def test_render_card_is_deterministic():
    card = make_card()
    assert render_card(card) == render_card(dataclasses.replace(card))
