"""The laporan as PDF (reportlab's platypus), the same blocks as the DOCX: A4 portrait, the cover
on a page of its own, tables with a shaded header, charts and photos scaled to the text width."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Image, KeepTogether, SimpleDocTemplate, Spacer
from reportlab.platypus import PageBreak as PdfPageBreak
from reportlab.platypus import Paragraph as PdfParagraph
from reportlab.platypus import Table as PdfTable

from workshop.laporan import charts
from workshop.laporan.blocks import Chart, Cover, Document, Heading, PageBreak, Paragraph, Picture, Table

MARGIN = 2.2 * cm
TEXT_WIDTH = A4[0] - 2 * MARGIN
PICTURE_MAX_HEIGHT = 11 * cm
HEADER_SHADE = colors.Color(0.88, 0.91, 0.95)
_styles = getSampleStyleSheet()
_body = ParagraphStyle("body", parent=_styles["BodyText"], fontName="Helvetica", fontSize=10.5, leading=14)
_muted = ParagraphStyle(
    "muted", parent=_body, fontName="Helvetica-Oblique", textColor=colors.Color(0.37, 0.42, 0.48)
)
_cell = ParagraphStyle("cell", parent=_body, fontSize=9, leading=11)
_cell_bold = ParagraphStyle("cell_bold", parent=_cell, fontName="Helvetica-Bold")
_caption = ParagraphStyle("caption", parent=_muted, alignment=TA_CENTER, fontSize=9.5)
_cover_title = ParagraphStyle("cover_title", parent=_styles["Title"], fontSize=22, leading=28, spaceAfter=24)
_cover_line = ParagraphStyle(
    "cover_line", parent=_body, alignment=TA_CENTER, fontSize=14, leading=20, spaceAfter=6
)
_headings = {
    # A heading stays on the page of what follows it.
    1: ParagraphStyle("h1", parent=_styles["Heading1"], fontSize=16, spaceBefore=14, keepWithNext=1),
    2: ParagraphStyle("h2", parent=_styles["Heading2"], fontSize=13, keepWithNext=1),
    3: ParagraphStyle("h3", parent=_styles["Heading3"], fontSize=11, keepWithNext=1),
}


def render(document: Document) -> bytes:
    output = io.BytesIO()
    template = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=document.title,
        author=document.author,
    )
    story = []
    for block in document.blocks:
        story.extend(_flowables(block))
    template.build(story, onLaterPages=_footer(document.title))
    return output.getvalue()


def _footer(title: str):
    shown = title if len(title) <= 90 else title[:89] + "…"

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, 1.2 * cm, shown)
        canvas.drawRightString(A4[0] - MARGIN, 1.2 * cm, str(doc.page))
        canvas.restoreState()

    return draw


def _text(text: str, style) -> PdfParagraph:
    return PdfParagraph(escape(text).replace("\n", "<br/>"), style)


def _flowables(block) -> list:
    if isinstance(block, Cover):
        return [
            Spacer(1, 6 * cm),
            _text(block.title, _cover_title),
            *(_text(line, _cover_line) for line in block.lines),
        ]
    if isinstance(block, Heading):
        return [_text(block.text, _headings[block.level])]
    if isinstance(block, Paragraph):
        return [_text(block.text, _muted if block.muted else _body)]
    if isinstance(block, Table):
        return [_table(block), Spacer(1, 0.35 * cm)]
    if isinstance(block, Chart):
        png = charts.bar_chart(block.title, block.bars)
        image = Image(io.BytesIO(png))
        scale = TEXT_WIDTH / image.imageWidth
        image.drawWidth, image.drawHeight = TEXT_WIDTH, image.imageHeight * scale
        return [image, Spacer(1, 0.25 * cm)]
    if isinstance(block, Picture):
        width = TEXT_WIDTH
        height = block.height * width / block.width
        if height > PICTURE_MAX_HEIGHT:
            width, height = width * PICTURE_MAX_HEIGHT / height, PICTURE_MAX_HEIGHT
        parts: list[Flowable] = [Image(io.BytesIO(block.content), width=width, height=height)]
        if block.caption:
            parts.append(_text(block.caption, _caption))
        return [KeepTogether(parts), Spacer(1, 0.4 * cm)]
    if isinstance(block, PageBreak):
        return [PdfPageBreak()]
    raise TypeError(f"not a laporan block: {block!r}")


def _table(block: Table) -> PdfTable:
    last = len(block.rows)
    data = [[_text(text, _cell_bold) for text in block.header]]
    for index, row in enumerate(block.rows, start=1):
        style = _cell_bold if block.total and index == last else _cell
        data.append([_text(text, style) for text in row])
    return PdfTable(
        data,
        repeatRows=1,
        hAlign="LEFT",
        style=[
            ("GRID", (0, 0), (-1, -1), 0.5, colors.Color(0.6, 0.64, 0.7)),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ],
        colWidths=_widths(block),
    )


def _widths(block: Table) -> list[float]:
    """The table's relative widths, else equal columns but the first (the labels) wider."""
    if block.widths:
        return [TEXT_WIDTH * weight / sum(block.widths) for weight in block.widths]
    columns = len(block.header)
    if columns <= 1:
        return [TEXT_WIDTH]
    first = TEXT_WIDTH * (0.34 if columns > 3 else 0.5)
    return [first] + [(TEXT_WIDTH - first) / (columns - 1)] * (columns - 1)
