"""The laporan as DOCX (python-docx), editable: Word's own heading styles and tables in the
"Table Grid" style, so that the agency can change the text, restyle it and add to it."""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Pt, RGBColor

from workshop.laporan import charts
from workshop.laporan.blocks import Chart, Cover, Document, Heading, PageBreak, Paragraph, Picture, Table

MUTED = RGBColor(0x5F, 0x6B, 0x7A)
TEXT_WIDTH_CM = 16.0
PICTURE_MAX_HEIGHT_CM = 11.0


def render(document: Document) -> bytes:
    out = new_document()
    section = out.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    out.styles["Normal"].font.name = "Arial"
    out.styles["Normal"].font.size = Pt(11)
    out.core_properties.title = document.title
    out.core_properties.author = document.author
    for block in document.blocks:
        _add(out, block)
    body = io.BytesIO()
    out.save(body)
    return body.getvalue()


def _add(out, block) -> None:
    if isinstance(block, Cover):
        for _ in range(6):
            out.add_paragraph()
        title = out.add_heading(block.title, 0)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for line in block.lines:
            paragraph = out.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(line)
            run.font.size = Pt(14)
    elif isinstance(block, Heading):
        out.add_heading(block.text, block.level)
    elif isinstance(block, Paragraph):
        run = out.add_paragraph().add_run(block.text)
        if block.muted:
            run.italic = True
            run.font.color.rgb = MUTED
    elif isinstance(block, Table):
        _table(out, block)
    elif isinstance(block, Chart):
        out.add_picture(io.BytesIO(charts.bar_chart(block.title, block.bars)), width=Cm(TEXT_WIDTH_CM))
    elif isinstance(block, Picture):
        _picture(out, block)
    elif isinstance(block, PageBreak):
        out.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _table(out, block: Table) -> None:
    table = out.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    last = len(block.rows) - 1
    for index, row in enumerate(block.rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            if block.total and index == last:
                cell.paragraphs[0].add_run(text).bold = True
            else:
                cell.text = text
    out.add_paragraph()


def _picture(out, block: Picture) -> None:
    width = Cm(TEXT_WIDTH_CM)
    if block.height * TEXT_WIDTH_CM / block.width > PICTURE_MAX_HEIGHT_CM:
        width = Cm(PICTURE_MAX_HEIGHT_CM * block.width / block.height)
    out.add_picture(io.BytesIO(block.content), width=width)
    out.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if block.caption:
        caption = out.add_paragraph(block.caption)
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.runs[0].italic = True
