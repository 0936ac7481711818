"""What every chapter of the laporan writes with: the blocks so far, numbered chapter headings,
stage names and percentages in the organiser's language."""

from __future__ import annotations

from babel.numbers import format_percent
from flask_babel import gettext as _

from workshop import i18n
from workshop.laporan.blocks import Heading, Paragraph
from workshop.laporan.queries import Facts
from workshop.programs.models import Stage


class Writer:
    """The blocks of a report as they are written, its chapters numbered, in the organiser's language."""

    def __init__(self, facts: Facts, locale: str):
        self.facts, self.locale = facts, locale
        self.program = facts.program
        self.blocks: list = []
        self.chapter = 0

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    def chapter_heading(self, text: str) -> None:
        self.chapter += 1
        self.add(Heading(f"{self.chapter}. {text}", 1))

    def percent(self, count: int, total: int) -> str:
        return format_percent(count / total if total else 0, locale=self.locale)

    def stage_name(self, stage: Stage) -> str:
        return f"{i18n.stage_label(stage.number, self.locale)}: {stage.title}"

    def stage_heading(self, stage: Stage) -> None:
        if self.facts.whole:
            self.add(Heading(self.stage_name(stage), 2))

    def texts(self, text: str) -> None:
        paragraphs = [line for line in text.splitlines() if line.strip()]
        if not paragraphs:
            self.add(Paragraph(_("Not filled in yet."), muted=True))
        self.add(*(Paragraph(line) for line in paragraphs))
