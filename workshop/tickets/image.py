"""The ticket as a PNG to download or print: the QR code, and under it the holder's name, the
programme, the stage(s) in the hall and the short code to type when the QR cannot be read.

The QR carries the secret only (`qr.png`); the words are for people. They are drawn in Bitstream
Vera, the TrueType font that reportlab ships (a dependency already), so no font file is ours and
none is needed from the system.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont

from workshop.tickets import qr
from workshop.tickets.badges import Badge, wrap

FONTS = Path(reportlab.__file__).parent / "fonts"
REGULAR = FONTS / "Vera.ttf"
BOLD = FONTS / "VeraBd.ttf"
WIDTH = 480  # pixels; the QR (370) sits in the middle
MARGIN = 24
GAP = 10  # between the blocks of text
LEADING = 1.25
INK = (17, 24, 39)
MUTED = (55, 65, 81)


@dataclass(frozen=True)
class Style:
    bold: bool
    size: int  # pixels
    max_lines: int
    colour: tuple[int, int, int] = INK


NAME = Style(bold=True, size=26, max_lines=2)
PROGRAMME = Style(bold=False, size=17, max_lines=3, colour=MUTED)
STAGES = Style(bold=True, size=19, max_lines=1)
CODE = Style(bold=True, size=32, max_lines=1)


@cache
def font(style: Style) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD if style.bold else REGULAR), style.size)


def blocks(badge: Badge) -> list[tuple[Style, list[str]]]:
    """The text under the QR, wrapped to the width: (style, lines) from top to bottom."""
    width = WIDTH - 2 * MARGIN
    texts = [
        (NAME, badge.name),
        (PROGRAMME, badge.programme),
        (STAGES, badge.stage_label),
        (CODE, badge.short_code),
    ]
    return [
        (style, wrap(text, width, font(style).getlength, max_lines=style.max_lines))
        for style, text in texts
        if text
    ]


def png(badge: Badge) -> bytes:
    code = Image.open(io.BytesIO(qr.png(badge.secret))).convert("RGB")
    text = blocks(badge)
    line_height = {style: round(style.size * LEADING) for style, _ in text}
    height = code.height + sum(len(lines) * line_height[style] for style, lines in text)
    height += GAP * (len(text) - 1) + MARGIN
    image = Image.new("RGB", (WIDTH, height), "white")
    image.paste(code, ((WIDTH - code.width) // 2, 0))  # the QR's own quiet zone is the top margin
    draw = ImageDraw.Draw(image)
    top = code.height
    for style, lines in text:
        for line in lines:
            left = (WIDTH - round(font(style).getlength(line))) // 2
            draw.text((left, top), line, font=font(style), fill=style.colour)
            top += line_height[style]
        top += GAP
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
