"""From the stored certificate to the values its PDF is drawn from (pdf.py): the words in the
certificate's language (Indonesian), dates in Indonesian style, the verification link."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _

from workshop import i18n, web
from workshop.certificates.models import Certificate, CertificateSettings
from workshop.programs.models import Program

if TYPE_CHECKING:  # pdf.py (reportlab) is loaded by the first certificate made, not at start-up
    from workshop.certificates.pdf import Facts, Template

LANGUAGE = i18n.DEFAULT_LANGUAGE  # an official document: in Indonesian


def verify_url(config: Mapping, code: str) -> str:
    return web.public_url(config, "certificates.verify", code=code)


def date_text(certificate: Certificate, language: str = LANGUAGE) -> str:
    """24 Juni 2021."""
    return format_date(certificate.dated, "d MMMM y", locale=language)


def filename(certificate: Certificate) -> str:
    plain = unicodedata.normalize("NFKD", certificate.name).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-")[:60] or "peserta"
    return f"{certificate.number:04d}-{words}.pdf"


def template(program: Program, settings: CertificateSettings) -> Template:
    from workshop.certificates.pdf import Template

    with force_locale(LANGUAGE):
        return Template(
            issuer=program.organiser,
            logo=settings.logo,
            signatory_name=settings.signatory_name,
            signatory_nip=settings.signatory_nip,
            signatory_title=settings.signatory_title,
            title=_("Certificate"),
            awarded_to=_("is awarded to"),
            for_taking_part=_("for taking part as a participant in"),
            verify=_("Verify this certificate:"),
            code_label=_("Code"),
            nip_label=_("NIP"),
        )


def attended_line(certificate: Certificate, language: str = LANGUAGE) -> str:
    with force_locale(language):
        stages = i18n.stages_label(certificate.stages, language)
        if certificate.jp:
            return _(
                "present at %(stages)s (%(count)d of %(total)d stages), %(jp)d JP",
                stages=stages,
                count=len(certificate.stages),
                total=certificate.stages_total,
                jp=certificate.jp,
            )
        return _(
            "present at %(stages)s (%(count)d of %(total)d stages)",
            stages=stages,
            count=len(certificate.stages),
            total=certificate.stages_total,
        )


def facts(certificate: Certificate, settings: CertificateSettings, config: Mapping) -> Facts:
    from workshop.certificates.pdf import Facts

    with force_locale(LANGUAGE):
        dated = date_text(certificate)
        return Facts(
            filename=filename(certificate),
            number_line=_("Number: %(number)s", number=certificate.number_text),
            name=certificate.name,
            organization=certificate.organization,
            program_title=certificate.program_title,
            attended_line=attended_line(certificate),
            place_and_date=f"{settings.place}, {dated}" if settings.place else dated,
            verify_url=verify_url(config, certificate.code),
            code=certificate.code,
            revoked_line=_("REVOKED") if certificate.revoked else "",
        )
