"""The certificate as PDF (reportlab): landscape A4, drawn from plain values only, so that it runs
in a process of its own (workshop/offload.py) and a PDF made again is byte for byte the same.

Logo and issuer at the top, the title and number, the participant's name and organisation, the
programme with the stages and JP attended, the signatory block on the right and, on the left, the
QR code of the verification page with its short code beneath.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdf_canvas

from workshop.tickets import qr
from workshop.tickets.badges import draw_modules

PAGE = landscape(A4)
MARGIN = 18 * mm
QR_SIZE = 32 * mm
LOGO_HEIGHT = 24 * mm
INK = (0.11, 0.16, 0.28)
ACCENT = (0.60, 0.45, 0.13)


@dataclass(frozen=True)
class Template:
    """The organiser's template and the words of the page, in the certificate's language."""

    issuer: str  # the programme's organiser, e.g. "Dinas Kominfo Kabupaten Tapanuli Utara"
    logo: bytes | None
    signatory_name: str
    signatory_nip: str
    signatory_title: str
    title: str  # SERTIFIKAT
    awarded_to: str  # diberikan kepada
    for_taking_part: str  # atas partisipasinya sebagai peserta
    verify: str  # Verifikasi
    code_label: str  # Kode
    nip_label: str  # NIP


@dataclass(frozen=True)
class Facts:
    """One certificate's lines, formatted by the caller (translated, dates in Indonesian style)."""

    filename: str
    number_line: str  # Nomor: 800/123/Kominfo/2021
    name: str
    organization: str
    program_title: str
    attended_line: str  # hadir pada Tahap I, II dan IV (3 dari 4 tahap), 24 JP
    place_and_date: str  # Tarutung, 24 Juni 2021
    verify_url: str
    code: str
    revoked_line: str = ""  # shown across the page of a revoked certificate


def _fit(text: str, font: str, size: float, width: float, smallest: float = 10) -> float:
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _centred(canvas, y: float, text: str, font: str, size: float, width: float) -> float:
    """Centred lines (wrapped to `width`); returns the y below them."""
    for line in simpleSplit(text, font, size, width) or [""]:
        canvas.setFont(font, size)
        canvas.drawCentredString(PAGE[0] / 2, y, line)
        y -= size * 1.3
    return y


def _page(canvas, template: Template, facts: Facts, logo: ImageReader | None) -> None:
    width, height = PAGE
    inner = width - 2 * MARGIN
    canvas.setStrokeColorRGB(*ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(13 * mm, 13 * mm, width - 26 * mm, height - 26 * mm)

    y = height - MARGIN - 4 * mm
    if logo is not None:
        logo_width, logo_height = logo.getSize()
        shown = LOGO_HEIGHT * logo_width / logo_height
        canvas.drawImage(
            logo,
            (width - shown) / 2,
            y - LOGO_HEIGHT,
            shown,
            LOGO_HEIGHT,
            mask="auto",
            preserveAspectRatio=True,
        )
        y -= LOGO_HEIGHT + 6 * mm
    canvas.setFillColorRGB(*INK)
    if template.issuer:
        y = _centred(canvas, y, template.issuer.upper(), "Helvetica-Bold", 12, inner)
    y -= 4 * mm
    canvas.setFillColorRGB(*ACCENT)
    y = _centred(canvas, y - 10, template.title.upper(), "Helvetica-Bold", 34, inner)
    canvas.setFillColorRGB(*INK)
    y = _centred(canvas, y, facts.number_line, "Helvetica", 12, inner) - 4 * mm
    y = _centred(canvas, y, template.awarded_to, "Helvetica-Oblique", 12, inner) - 3 * mm
    name_size = _fit(facts.name, "Helvetica-Bold", 26, inner)
    y = _centred(canvas, y - 6, facts.name, "Helvetica-Bold", name_size, inner)
    y = _centred(canvas, y, facts.organization, "Helvetica", 13, inner) - 3 * mm
    y = _centred(canvas, y, template.for_taking_part, "Helvetica-Oblique", 12, inner)
    y = _centred(canvas, y, facts.program_title, "Helvetica-Bold", 15, inner - 40 * mm)
    _centred(canvas, y, facts.attended_line, "Helvetica", 12, inner)

    # The signatory block, right; the QR code and the short code, left.
    block_x = width - MARGIN - 40 * mm
    y = MARGIN + 48 * mm
    canvas.setFont("Helvetica", 11)
    canvas.drawCentredString(block_x, y, facts.place_and_date)
    for line in simpleSplit(template.signatory_title, "Helvetica", 11, 80 * mm):
        y -= 14
        canvas.drawCentredString(block_x, y, line)
    y = MARGIN + 12 * mm
    if template.signatory_name:
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawCentredString(block_x, y, template.signatory_name)
        name_width = stringWidth(template.signatory_name, "Helvetica-Bold", 11)
        canvas.line(block_x - name_width / 2, y - 2, block_x + name_width / 2, y - 2)
    if template.signatory_nip:
        canvas.setFont("Helvetica", 10)
        canvas.drawCentredString(block_x, y - 13, f"{template.nip_label}. {template.signatory_nip}")

    draw_modules(canvas, qr.link_modules(facts.verify_url), MARGIN, MARGIN + 2 * mm, QR_SIZE)
    canvas.setFillColorRGB(*INK)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(MARGIN + QR_SIZE + 3 * mm, MARGIN + 20 * mm, template.verify)
    canvas.drawString(MARGIN + QR_SIZE + 3 * mm, MARGIN + 16 * mm, facts.verify_url)
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(MARGIN + QR_SIZE + 3 * mm, MARGIN + 10 * mm, f"{template.code_label}: {facts.code}")

    if facts.revoked_line:
        canvas.saveState()
        canvas.setFillColorRGB(0.75, 0.1, 0.1)
        canvas.translate(width / 2, height / 2)
        canvas.rotate(20)
        canvas.setFont("Helvetica-Bold", 40)
        canvas.drawCentredString(0, 0, facts.revoked_line)
        canvas.restoreState()


def _logo(template: Template) -> ImageReader | None:
    return ImageReader(io.BytesIO(template.logo)) if template.logo else None


def render(template: Template, facts: Facts, logo: ImageReader | None = None) -> bytes:
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=PAGE, invariant=True, pageCompression=1)
    canvas.setTitle(f"{template.title}: {facts.name}")
    canvas.setAuthor(template.issuer)
    _page(canvas, template, facts, logo if logo is not None else _logo(template))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_many(template: Template, batch: list[Facts]) -> list[tuple[str, bytes]]:
    """(file name, PDF) of each certificate of the batch: the work of one offloaded step."""
    logo = _logo(template)
    return [(facts.filename, render(template, facts, logo)) for facts in batch]
