"""A poll's bar chart as a PNG (Pillow), for the DOCX and the PDF: one row per answer, its label,
a bar as long as its share of the longest, and the count with its percentage."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from workshop.tickets.image import BOLD, REGULAR

SCALE = 2  # drawn at twice the size it is shown, for print
WIDTH = 640 * SCALE
ROW = 30 * SCALE
LABEL_WIDTH = 230 * SCALE
NUMBER_WIDTH = 110 * SCALE
PAD = 10 * SCALE
BAR = (37, 99, 160)
TRACK = (228, 234, 241)
INK = (28, 41, 71)
MAX_LABEL = 34


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bar_chart(title: str, bars: tuple[tuple[str, int, str], ...]) -> bytes:
    """The PNG of (label, count, the count as written beside its bar) per bar."""
    font = ImageFont.truetype(str(REGULAR), 13 * SCALE)
    bold = ImageFont.truetype(str(BOLD), 14 * SCALE)
    height = PAD * 2 + ROW * (len(bars) + 1)
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (PAD, PAD),
        title if len(title) <= 2 * MAX_LABEL else title[: 2 * MAX_LABEL - 1] + "…",
        font=bold,
        fill=INK,
    )
    longest = max((count for _label, count, _text in bars), default=0)
    track = WIDTH - LABEL_WIDTH - NUMBER_WIDTH - 2 * PAD
    for index, (label, count, text) in enumerate(bars):
        top = PAD + ROW * (index + 1)
        middle = top + ROW // 2
        draw.text((PAD, middle), _short(label), font=font, fill=INK, anchor="lm")
        left = PAD + LABEL_WIDTH
        draw.rectangle((left, top + 6 * SCALE, left + track, top + ROW - 6 * SCALE), fill=TRACK)
        if longest:
            right = left + round(track * count / longest)
            draw.rectangle((left, top + 6 * SCALE, right, top + ROW - 6 * SCALE), fill=BAR)
        draw.text((WIDTH - PAD, middle), text, font=font, fill=INK, anchor="rm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
