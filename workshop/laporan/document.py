"""The laporan's facts (queries.py) in words, as blocks (blocks.py) that word.py and pdf.py render:
the cover, the organiser's texts, the schedule, the attendance recap, the polls, the questions,
the evaluation (answers.py), the assignments, the certificates and the photos. In the current language (the organiser's),
dates as "Kamis, 24 Juni 2021, pukul 09.00 WIB"."""

from __future__ import annotations

from collections import Counter

from flask_babel import gettext as _

from workshop import i18n
from workshop.assignments import exports as assignment_exports
from workshop.evaluation.exports import mode_label
from workshop.groups import exports as group_exports
from workshop.laporan import answers
from workshop.laporan.blocks import Cover, Document, Heading, PageBreak, Paragraph, Picture, Table
from workshop.laporan.queries import Facts, Recap
from workshop.laporan.writing import Writer
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.registration.models import Mode
from workshop.reports.labels import status_label


class _Writer(Writer):
    """The report's own chapters; those of what the participants answered are in answers.py."""

    def cover(self) -> None:
        program, stages = self.program, [facts.stage for facts in self.facts.stages]
        timezone = program.timezone
        if self.facts.whole:
            when = (
                i18n.format_day_range(stages[0].starts_at, stages[-1].ends_at, timezone, self.locale)
                if stages
                else ""
            )
            lines = [program.title, program.organiser, when]
        else:
            stage = stages[0]
            lines = [
                program.title,
                self.stage_name(stage),
                program.organiser,
                i18n.format_range(stage.starts_at, stage.ends_at, timezone, self.locale),
            ]
        self.add(Cover(_("ACTIVITY REPORT"), tuple(line for line in lines if line)), PageBreak())

    def introduction(self) -> None:
        texts = self.facts.texts
        self.chapter_heading(_("Introduction"))
        self.add(Heading(_("Legal basis"), 2))
        self.texts(texts.basis)
        self.add(Heading(_("Purpose"), 2))
        self.texts(texts.purpose)
        if texts.summary.strip():
            self.add(Heading(_("Summary"), 2))
            self.texts(texts.summary)

    def schedule(self) -> None:
        self.chapter_heading(_("Schedule"))
        timezone = self.program.timezone
        for facts in self.facts.stages:
            stage = facts.stage
            self.add(Heading(self.stage_name(stage), 2))
            self.add(Paragraph(i18n.format_range(stage.starts_at, stage.ends_at, timezone, self.locale)))
            if stage.venue_name:
                self.add(
                    Paragraph(", ".join(part for part in (stage.venue_name, stage.venue_address) if part))
                )
            if stage.agenda:
                self.add(
                    Table(
                        (_("Time"), _("Topic"), _("Speaker")),
                        tuple(
                            (
                                i18n.format_clock(item.starts_at, timezone, self.locale),
                                item.title,
                                item.speaker,
                            )
                            for item in stage.agenda
                        ),
                        widths=(2, 6, 4),
                    )
                )

    def recap_table(self, heading: str, groups: list[tuple[str, Counter]], recap: Recap) -> Table:
        """One row per group (its label, how many have each status, its total), then the total."""
        statuses = recap.statuses

        def row(label: str, counts: Counter) -> tuple[str, ...]:
            return (label, *(str(counts[status]) for status in statuses), str(sum(counts.values())))

        rows = (*(row(label, counts) for label, counts in groups), row(_("Total"), recap.total))
        return Table((heading, *(status_label(s) for s in statuses), _("Total")), rows, total=True)

    def attendance(self) -> None:
        self.chapter_heading(_("Attendance recap"))
        for facts in self.facts.stages:
            self.stage_heading(facts.stage)
            recap = facts.recap
            modes = [Mode.LURING, Mode.DARING] + ([None] if None in recap.by_mode else [])
            by_mode = [
                (mode_label(mode) or _("Not stated"), recap.by_mode.get(mode, Counter())) for mode in modes
            ]
            by_kind = [
                (str(label), recap.by_kind[kind])
                for kind, label in ORG_KIND_LABELS.items()
                if kind in recap.by_kind
            ]
            self.add(self.recap_table(_("Mode"), by_mode, recap))
            self.add(self.recap_table(_("Kind of organisation"), by_kind, recap))

    def assignments(self) -> None:
        """Per assignment: who had to hand it in, who did (late), accepted, missing; then who."""
        assignments, rows = self.facts.assignments, self.facts.assignment_rows
        self.chapter_heading(_("Assignments"))
        summary = []
        for assignment in assignments:
            cells = [row.cells[assignment.id] for row in rows if assignment.id in row.cells]
            handed_in = [cell for cell in cells if cell.submission is not None]
            counts = (
                len(cells),
                len(handed_in),
                sum(cell.late for cell in handed_in),
                sum(cell.status == "accepted" for cell in cells),
                len(cells) - len(handed_in),
            )
            deadline = i18n.format_datetime_long(assignment.deadline, self.program.timezone, self.locale)
            summary.append((assignment.title, deadline, *(str(count) for count in counts)))
        header = (_("Assignment"), _("Deadline"), _("Must hand in"), _("Handed in"), _("Late"), _("Accepted"))
        self.add(Table((*header, _("Not submitted")), tuple(summary), widths=(5, 4, 2, 2, 2, 2, 2)))
        matrix = assignment_exports.rows(assignments, rows)
        self.add(Table(tuple(assignment_exports.header(assignments)), tuple(tuple(row) for row in matrix)))

    def group_work(self) -> None:
        """Per stage with groups: each group's leader, members and output (problems, quick wins, programmes)."""
        self.chapter_heading(_("Group work results"))
        for facts in self.facts.stages:
            if facts.stage.id in self.facts.group_work:
                self.stage_heading(facts.stage)
                rows = group_exports.rows(self.facts.group_work[facts.stage.id])
                self.add(
                    Table(
                        tuple(group_exports.header()),
                        tuple(tuple(row) for row in rows),
                        widths=(3, 3, 4, 5, 5, 5),
                    )
                )

    def certificates(self) -> None:
        self.chapter_heading(_("Certificates issued"))
        certificates = self.facts.certificates
        self.add(Paragraph(_("%(num)d certificates issued.", num=len(certificates))))
        if certificates:
            self.add(
                Table(
                    (_("No."), _("Number"), _("Name"), _("Organisation")),
                    tuple(
                        (str(index), certificate.number_text, certificate.name, certificate.organization)
                        for index, certificate in enumerate(certificates, start=1)
                    ),
                    widths=(1, 5, 5, 6),
                )
            )

    def photos(self) -> None:
        self.chapter_heading(_("Documentation"))
        for facts in self.facts.stages:
            self.stage_heading(facts.stage)
            if not facts.photos:
                self.add(Paragraph(_("No photo was added."), muted=True))
            for photo in facts.photos:
                self.add(Picture(photo.content, photo.width, photo.height, photo.caption))

    def closing(self) -> None:
        if self.facts.texts.closing.strip():
            self.chapter_heading(_("Closing"))
            self.texts(self.facts.texts.closing)


def build(facts: Facts, locale: str) -> Document:
    writer = _Writer(facts, locale)
    writer.cover()
    writer.introduction()
    writer.schedule()
    writer.attendance()
    answers.polls(writer)
    answers.questions(writer)
    answers.evaluation(writer)
    if facts.assignments:
        writer.assignments()
    if facts.group_work:
        writer.group_work()
    if facts.whole:
        writer.certificates()
    writer.photos()
    writer.closing()
    title = f"{_('Activity report')}: {facts.program.title}"
    if not facts.whole:
        title += f", {i18n.stage_label(facts.stages[0].stage.number, locale)}"
    return Document(title=title, author=facts.program.organiser, blocks=tuple(writer.blocks))


def filename(facts: Facts, extension: str) -> str:
    part = "" if facts.whole else f"-tahap-{facts.stages[0].stage.number}"
    return f"laporan-{facts.program.slug}{part}.{extension}"
