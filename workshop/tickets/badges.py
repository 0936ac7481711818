"""Printable badges (ID cards) as PDF: A4 sheets of 2 x 4 cards of 90 x 60 mm with cut marks.

A card shows the name (large), jabatan, instansi, the programme and its stage(s), the ticket's QR code
(vector, drawn from the same symbol as the PNG and SVG) and the short code under it. Text that is too
long shrinks, then wraps, then ends with an ellipsis; every card is also clipped to its own rectangle,
so nothing can run onto the next card.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workshop.db import Session
from workshop.i18n import stage_label, stages_label
from workshop.programs.models import Organization, Stage
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.tickets import codes, qr

PAGE_WIDTH, PAGE_HEIGHT = A4
CARD_WIDTH = 90 * mm
CARD_HEIGHT = 60 * mm
COLUMNS = 2
ROWS = 4
PER_PAGE = COLUMNS * ROWS
LEFT = (PAGE_WIDTH - COLUMNS * CARD_WIDTH) / 2  # 15 mm
TOP = (PAGE_HEIGHT - ROWS * CARD_HEIGHT) / 2  # 28.5 mm

PADDING = 4 * mm
HEADER_HEIGHT = 11 * mm
QR_SIZE = 34 * mm  # quiet zone included: modules of about 0.92 mm
LEADING = 1.18
ELLIPSIS = "\u2026"

HEADER_COLOUR = HexColor("#1e3a8a")
TEXT_COLOUR = HexColor("#111827")
MUTED_COLOUR = HexColor("#374151")
BORDER_COLOUR = Color(0.75, 0.75, 0.75)


@dataclass(frozen=True)
class Badge:
    name: str
    position: str
    organisation: str
    programme: str
    stage_label: str  # "Tahap II", or "Tahap I, III" on one person's card
    secret: str
    short_code: str  # as printed: ABCD-EFGH


def badge_for(registration: Registration, stage_label: str) -> Badge:
    person = registration.person
    return Badge(
        name=person.name,
        position=person.position,
        organisation=person.organization.label,
        programme=registration.program.title,
        stage_label=stage_label,
        secret=registration.ticket_secret,
        short_code=codes.format_short_code(registration.ticket_code),
    )


def stage_badges(session: Session, stage: Stage) -> list[Badge]:
    """The stage's approved in-person (luring) participants, by organisation then name."""
    registrations = session.scalars(
        select(Registration)
        .join(RegistrationStage)
        .where(
            RegistrationStage.stage_id == stage.id,
            RegistrationStage.mode == Mode.LURING,
            Registration.status == Status.APPROVED,
        )
        .options(
            joinedload(Registration.person).joinedload(Person.organization).joinedload(Organization.parent),
            joinedload(Registration.program),
        )
    ).all()
    registrations = sorted(
        registrations,
        key=lambda r: (r.person.organization.label.casefold(), r.person.name.casefold(), r.id),
    )
    label = stage_label(stage.number)
    return [badge_for(registration, label) for registration in registrations]


def registration_badge(registration: Registration) -> Badge:
    """One person's card: it names the stages they attend in the hall (the ticket is the same for all)."""
    numbers = [
        stage.number for stage in registration.program.stages if registration.mode_for(stage) == Mode.LURING
    ]
    return badge_for(registration, stages_label(numbers))


def render(badges: Sequence[Badge], *, title: str, empty_message: str = "") -> bytes:
    """An A4 PDF with the cards in reading order (left to right, top to bottom), 8 to a page."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Bimtek Hybrid")
    if not badges:
        canvas.setFont("Helvetica", 12)
        canvas.drawString(LEFT, PAGE_HEIGHT - TOP, empty_message)
        canvas.showPage()
    for start in range(0, len(badges), PER_PAGE):
        page = badges[start : start + PER_PAGE]
        _cut_marks(canvas)
        for slot, badge in enumerate(page):
            x, y = slot_origin(slot)
            _card(canvas, badge, x, y)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def slot_origin(slot: int) -> tuple[float, float]:
    """The lower-left corner of a card slot on the page, in points (slot 0 is top left)."""
    row, column = divmod(slot, COLUMNS)
    return LEFT + column * CARD_WIDTH, PAGE_HEIGHT - TOP - (row + 1) * CARD_HEIGHT


def _cut_marks(canvas: Canvas) -> None:
    """Marks in the margins along every cut line, 2 mm off the cards, so cutting stays straight."""
    canvas.saveState()
    canvas.setLineWidth(0.4)
    canvas.setStrokeColor(TEXT_COLOUR)
    bottom = PAGE_HEIGHT - TOP - ROWS * CARD_HEIGHT
    right = LEFT + COLUMNS * CARD_WIDTH
    gap, length = 2 * mm, 8 * mm
    for column in range(COLUMNS + 1):
        x = LEFT + column * CARD_WIDTH
        canvas.line(x, PAGE_HEIGHT - TOP + gap, x, PAGE_HEIGHT - TOP + gap + length)
        canvas.line(x, bottom - gap, x, bottom - gap - length)
    for row in range(ROWS + 1):
        y = PAGE_HEIGHT - TOP - row * CARD_HEIGHT
        canvas.line(LEFT - gap, y, LEFT - gap - length, y)
        canvas.line(right + gap, y, right + gap + length, y)
    canvas.restoreState()


def _card(canvas: Canvas, badge: Badge, x: float, y: float) -> None:
    canvas.saveState()
    # A hairline border (where to cut), then clip: whatever happens inside stays on this card.
    canvas.setLineWidth(0.3)
    canvas.setStrokeColor(BORDER_COLOUR)
    canvas.rect(x, y, CARD_WIDTH, CARD_HEIGHT, stroke=1, fill=0)
    clip = canvas.beginPath()
    clip.rect(x, y, CARD_WIDTH, CARD_HEIGHT)
    canvas.clipPath(clip, stroke=0, fill=0)

    top = y + CARD_HEIGHT
    _header(canvas, badge, x, top)

    qr_x = x + CARD_WIDTH - PADDING + 1.5 * mm - QR_SIZE  # the quiet zone stands in for the padding
    qr_top = top - HEADER_HEIGHT - 1 * mm
    _qr(canvas, badge.secret, qr_x, qr_top - QR_SIZE, QR_SIZE)
    canvas.setFillColor(TEXT_COLOUR)
    canvas.setFont("Courier-Bold", 11)
    canvas.drawCentredString(qr_x + QR_SIZE / 2, qr_top - QR_SIZE - 3.2 * mm, badge.short_code)

    text_x = x + PADDING + 1 * mm
    width = qr_x - text_x
    body_top = top - HEADER_HEIGHT - 4 * mm
    body_height = body_top - (y + PADDING)
    organisation = _fit(badge.organisation, "Helvetica-Bold", 9.5, 7, width, 3, body_height / 3)
    position = _fit(badge.position, "Helvetica", 9.5, 7, width, 2, body_height / 4.5)
    gap = 2.2 * mm
    rest = body_height - _height(organisation) - _height(position) - 2 * gap
    name = _fit(badge.name, "Helvetica-Bold", 17, 9, width, 3, rest)

    cursor = body_top
    cursor = _draw(canvas, name, text_x, cursor, TEXT_COLOUR) - gap
    cursor = _draw(canvas, position, text_x, cursor, MUTED_COLOUR) - gap
    _draw(canvas, organisation, text_x, cursor, TEXT_COLOUR)
    canvas.restoreState()


def _header(canvas: Canvas, badge: Badge, x: float, top: float) -> None:
    canvas.setFillColor(HEADER_COLOUR)
    canvas.rect(x, top - HEADER_HEIGHT, CARD_WIDTH, HEADER_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(white)
    right = x + CARD_WIDTH - PADDING
    stage_width = 0.0
    if badge.stage_label:
        stage = _fit(badge.stage_label.upper(), "Helvetica-Bold", 10.5, 7, CARD_WIDTH / 3, 1, HEADER_HEIGHT)
        stage_width = stringWidth(stage.lines[0], stage.font, stage.size)
        baseline = top - HEADER_HEIGHT / 2 - stage.size * 0.35
        canvas.setFont(stage.font, stage.size)
        canvas.drawRightString(right, baseline, stage.lines[0])
    width = right - stage_width - 3 * mm - (x + PADDING)
    programme = _fit(badge.programme, "Helvetica-Bold", 9, 6.5, width, 2, HEADER_HEIGHT - 2 * mm)
    # Centre the title's lines in the band.
    first_baseline = top - HEADER_HEIGHT / 2 + _height(programme) / 2 - programme.size
    _draw_lines(canvas, programme, x + PADDING, first_baseline)


def _qr(canvas: Canvas, secret: str, x: float, y: float, size: float) -> None:
    draw_modules(canvas, qr.modules(secret), x, y, size)


def draw_modules(canvas: Canvas, rows: Sequence[Sequence[bool]], x: float, y: float, size: float) -> None:
    """A QR symbol's modules as filled rectangles (runs of dark modules per row) on white."""
    module = size / len(rows)
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(Color(0, 0, 0))
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # A hair of overlap between rows, so no white seam shows between modules when rasterised.
            path.rect(x + start * module, y + size - (r + 1) * module, (c - start) * module, module * 1.01)
    canvas.drawPath(path, stroke=0, fill=1)


@dataclass(frozen=True)
class _Text:
    font: str
    size: float
    lines: list[str]


def _height(text: _Text) -> float:
    return len(text.lines) * text.size * LEADING


def _fit(text: str, font: str, largest: float, smallest: float, width: float, max_lines: int, height: float):
    """The largest size (in half points) at which `text` fits the box; at the smallest, cut with '…'."""
    size = largest
    while size >= smallest:
        lines = wrap(text, width, _measure(font, size))
        if len(lines) <= max_lines and len(lines) * size * LEADING <= height:
            return _Text(font, size, lines)
        size -= 0.5
    size = smallest
    keep = max(1, min(max_lines, int(height // (size * LEADING))))
    return _Text(font, size, wrap(text, width, _measure(font, size), max_lines=keep))


def _measure(font: str, size: float) -> Callable[[str], float]:
    return lambda text: stringWidth(text, font, size)


def wrap(text: str, width: float, measure: Callable[[str], float], max_lines: int | None = None) -> list[str]:
    """Greedy word wrap to lines of at most `width` as `measure` counts it (points, pixels); a word
    wider than a line is broken between characters. Beyond `max_lines`, the last line ends in '…'."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        for piece in _pieces(word, width, measure):
            candidate = f"{line} {piece}" if line else piece
            if measure(candidate) <= width:
                line = candidate
            else:
                if line:
                    lines.append(line)
                line = piece
    if line:
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _ellipsize(" ".join(lines[max_lines - 1 :]), width, measure)]
    return lines


def _pieces(word: str, width: float, measure: Callable[[str], float]) -> Iterable[str]:
    piece = ""
    for char in word:
        if piece and measure(piece + char) > width:
            yield piece
            piece = ""
        piece += char
    if piece:
        yield piece


def _ellipsize(text: str, width: float, measure: Callable[[str], float]) -> str:
    while text and measure(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _draw(canvas: Canvas, text: _Text, x: float, top: float, colour) -> float:
    """Draws the lines from `top` down; returns the y below the last line."""
    canvas.setFillColor(colour)
    _draw_lines(canvas, text, x, top - text.size)
    return top - _height(text)


def _draw_lines(canvas: Canvas, text: _Text, x: float, first_baseline: float) -> None:
    canvas.setFont(text.font, text.size)
    for number, line in enumerate(text.lines):
        canvas.drawString(x, first_baseline - number * text.size * LEADING, line)
