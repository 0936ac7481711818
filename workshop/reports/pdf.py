"""The daftar hadir: the signed attendance list of a stage, as PDF (reportlab).

A4 portrait; title, programme, stage and date; a table No, Nama, Jabatan, Instansi, Moda, Jam
Hadir, Tanda Tangan whose header repeats on every page; the signature cell of an in-person
participant has the row number on the left (odd) or the right (even), as on paper lists, so
that neighbours do not sign over each other; online participants' cells are shaded (they do
not sign). Every page has "Halaman n dari N".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from workshop import i18n
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode
from workshop.reports.labels import mode_label
from workshop.reports.services import Row

MARGIN = 15 * mm
COLUMN_WIDTHS = [9 * mm, 37 * mm, 32 * mm, 37 * mm, 15 * mm, 18 * mm, 32 * mm]  # 180 mm
SHADE = colors.HexColor("#EEEEEE")
HEADER_SHADE = colors.HexColor("#D9D9D9")

_text = ParagraphStyle("cell", fontName="Helvetica", fontSize=8.5, leading=10)
_head = ParagraphStyle("head", parent=_text, fontName="Helvetica-Bold", alignment=TA_CENTER)
_centre = ParagraphStyle("centre", parent=_text, alignment=TA_CENTER)
_sign_left = ParagraphStyle("sign-left", parent=_text, fontSize=8)
_sign_right = ParagraphStyle("sign-right", parent=_sign_left, leftIndent=8 * mm)
_title = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=15, leading=19, alignment=TA_CENTER)
_subtitle = ParagraphStyle(
    "subtitle", fontName="Helvetica-Bold", fontSize=11, leading=14, alignment=TA_CENTER
)
_line = ParagraphStyle("line", fontName="Helvetica", fontSize=10, leading=13, alignment=TA_CENTER)
_footer = ParagraphStyle("footer", fontName="Helvetica", fontSize=8, alignment=TA_RIGHT)


def _numbered_canvas(footer_left: str, page_words: str):
    """A canvas that writes "Halaman n dari N" once it knows N (pages are saved at the end)."""

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 8)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawString(MARGIN, 9 * mm, footer_left)
                self.drawRightString(
                    A4[0] - MARGIN, 9 * mm, page_words % {"page": self._pageNumber, "pages": total}
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def when_line(stage: Stage, day: date | None, locale: str) -> str:
    """'Kamis, 24 Juni 2021' for one day, or 'Kamis, 24 Juni 2021 s.d. Jumat, 25 Juni 2021'."""
    zone = stage.program.timezone
    if day is not None:
        return i18n.format_day(day, zone, locale)
    return i18n.format_day_range(stage.starts_at, stage.ends_at, zone, locale)


def daftar_hadir(stage: Stage, rows: Sequence[Row], *, day: date | None, locale: str) -> bytes:
    program = stage.program
    zone = program.timezone
    window = stage_window(stage)
    output = io.BytesIO()
    stage_name = i18n.stage_label(stage.number, locale)
    document = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=f"{_('ATTENDANCE LIST')} {program.title} {stage_name}",
        author=program.organiser,
    )
    when = when_line(stage, day, locale)
    story = [
        Paragraph(escape(_("ATTENDANCE LIST")), _title),
        Spacer(1, 1.5 * mm),
        Paragraph(escape(program.title), _subtitle),
        Paragraph(escape(f"{stage_name}: {stage.title}"), _subtitle),
        Spacer(1, 1.5 * mm),
        Paragraph(escape(f"{when} ({i18n.zone_abbreviation(zone, stage.starts_at)})"), _line),
    ]
    if stage.venue_name:
        place = stage.venue_name + (f", {stage.venue_address}" if stage.venue_address else "")
        story.append(Paragraph(escape(place), _line))
    story.append(Spacer(1, 5 * mm))

    header = [
        _("No."),
        _("Name"),
        _("Position"),
        _("Organisation"),
        _("Mode"),
        _("Time of arrival"),
        _("Signature"),
    ]
    data: list[list] = [[Paragraph(escape(text), _head) for text in header]]
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_SHADE),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("VALIGN", (0, 1), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for number, row in enumerate(rows, start=1):
        arrived = row.arrived_on(day, window) if day is not None else row.arrived_at
        if row.mode == Mode.LURING:
            sign_style = _sign_left if number % 2 else _sign_right
            signature: list | Paragraph = [
                Spacer(1, 5 * mm),
                Paragraph(f"{number}. " + "." * 20, sign_style),
            ]
        else:
            signature = Paragraph("", _text)
            style.append(("BACKGROUND", (6, number), (6, number), SHADE))
        data.append(
            [
                Paragraph(str(number), _centre),
                Paragraph(escape(row.person.name), _text),
                Paragraph(escape(row.person.position), _text),
                Paragraph(escape(row.org.label), _text),
                Paragraph(escape(mode_label(row.mode)), _centre),
                Paragraph(i18n.format_time(arrived, zone, locale) if arrived else "", _centre),
                signature,
            ]
        )
    if not rows:
        data.append([Paragraph(escape(_("No approved participants.")), _text), "", "", "", "", "", ""])
        style.append(("SPAN", (0, 1), (-1, 1)))
    story.append(Table(data, colWidths=COLUMN_WIDTHS, repeatRows=1, style=TableStyle(style)))

    footer_left = f"{program.title} · {stage_name}"
    if len(footer_left) > 90:
        footer_left = footer_left[:89] + "…"
    page_words = _("Page %(page)d of %(pages)d")
    document.build(story, canvasmaker=_numbered_canvas(footer_left, page_words))
    return output.getvalue()
