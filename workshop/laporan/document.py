"""The laporan's facts (queries.py) in words, as blocks (blocks.py) that word.py and pdf.py render:
the cover, the organiser's texts, the schedule, the attendance recap, the polls, the questions,
the evaluation, the assignments, the certificates and the photos. In the current language (the organiser's),
dates as "Kamis, 24 Juni 2021, pukul 09.00 WIB"."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from babel.numbers import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.assignments import exports as assignment_exports
from workshop.evaluation.exports import average_text, mode_label
from workshop.evaluation.models import ItemKind
from workshop.groups import exports as group_exports
from workshop.laporan.blocks import Chart, Cover, Document, Heading, PageBreak, Paragraph, Picture, Table
from workshop.laporan.queries import AskedQuestion, Facts, Recap
from workshop.live.models import PollKind, QuestionStatus
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Stage
from workshop.registration.models import Mode
from workshop.reports.labels import status_label

MAX_TEXT_ANSWERS = 50  # free-text answers listed per poll or evaluation item
QUESTION_LABELS = {
    QuestionStatus.ANSWERED: _l("Answered by the speaker"),
    QuestionStatus.APPROVED: _l("Approved, not answered"),
    QuestionStatus.PENDING: _l("Not moderated"),
}


def question_label(question: AskedQuestion) -> str:
    """Its state: answered, carried to the next stage (not answered, marked to be carried),
    approved but not answered, not moderated; and whether it was carried here."""
    if question.status != QuestionStatus.ANSWERED and question.carried_over:
        label = _("Carried to the next stage")
    else:
        label = str(QUESTION_LABELS.get(question.status, question.status.value))
    if question.carried_in:
        return _("%(state)s (carried from the previous stage)", state=label)
    return label


class _Writer:
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

    # --- The parts --------------------------------------------------------------------------

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

    def polls(self) -> None:
        self.chapter_heading(_("Poll results"))
        for facts in self.facts.stages:
            self.stage_heading(facts.stage)
            if not facts.polls:
                self.add(Paragraph(_("No poll was held."), muted=True))
            for number, summary in enumerate(facts.polls, start=1):
                poll, results = summary.poll, summary.results
                hall = results.get("hall", {})
                answered = results["total"] + hall.get("total", 0)
                self.add(Heading(f"{number}. {poll.question}", 3))
                if hall.get("entered"):
                    line = _(
                        "%(num)d answers: %(online)d online, %(hall)d counted in the hall",
                        num=answered,
                        online=results["total"],
                        hall=hall["total"],
                    )
                else:
                    line = _("%(num)d answers", num=answered)
                self.add(Paragraph(line))
                self.poll_results(poll.kind, results, answered, counted_in_hall=bool(hall.get("entered")))

    def poll_results(self, kind: PollKind, results: dict, total: int, *, counted_in_hall: bool) -> None:
        if results["bars"]:
            bars = [(bar, self.percent(bar["count"], total)) for bar in results["bars"]]
            self.add(
                Chart(
                    _("Answers"),
                    tuple((b["label"], b["count"], f"{b['count']} ({share})") for b, share in bars),
                )
            )
            header: tuple[str, ...]
            rows: tuple[tuple[str, ...], ...]
            if counted_in_hall:
                header = (_("Answer"), _("Online"), _("In the hall"), _("Count"), "%")
                rows = tuple(
                    (b["label"], str(b["online"]), str(b["hall"]), str(b["count"]), share)
                    for b, share in bars
                )
            else:
                header, rows = (
                    (_("Answer"), _("Count"), "%"),
                    tuple((b["label"], str(b["count"]), share) for b, share in bars),
                )
            self.add(Table(header, rows))
        if results["average"] is not None:
            self.add(
                Paragraph(_("Average: %(average)s", average=average_text(results["average"], self.locale)))
            )
        if results["words"]:
            self.add(
                Table(
                    (_("Word"), _("Count")),
                    tuple((word["text"], str(word["count"])) for word in results["words"]),
                )
            )
        if kind == PollKind.TEXT and results["answers"]:
            self.add(
                Table(
                    (_("Answer"),),
                    tuple((answer["text"],) for answer in results["answers"][:MAX_TEXT_ANSWERS]),
                )
            )

    def questions(self) -> None:
        self.chapter_heading(_("Questions from participants"))
        for facts in self.facts.stages:
            self.stage_heading(facts.stage)
            if not facts.questions:
                self.add(Paragraph(_("No question was asked."), muted=True))
                continue
            counted: dict[str, int] = {}  # per state, in the order of the list
            for question in facts.questions:
                state = question_label(replace(question, carried_in=False))
                counted[state] = counted.get(state, 0) + 1
            self.add(Paragraph("; ".join(f"{state}: {count}" for state, count in counted.items())))
            self.add(
                Table(
                    (_("No."), _("Question"), _("Asked by"), _("Upvotes"), _("Status")),
                    tuple(
                        (
                            str(number),
                            question.text,
                            f"{question.asker}, {question.organization}"
                            if question.asker
                            else _("Anonymous"),
                            str(question.upvotes),
                            question_label(question),
                        )
                        for number, question in enumerate(facts.questions, start=1)
                    ),
                    widths=(1, 7, 5, 2, 3),
                )
            )

    def evaluation(self) -> None:
        self.chapter_heading(_("Evaluation"))
        results = self.facts.evaluation
        if results is None:
            self.add(Paragraph(_("No evaluation questionnaire was set."), muted=True))
            return
        self.add(
            Table(
                (_("Stage"), _("Responses"), _("Participants"), "%"),
                tuple(
                    (
                        i18n.stage_label(stage.number, self.locale),
                        str(results.responded[stage.id]),
                        str(results.approved[stage.id]),
                        self.percent(results.responded[stage.id], results.approved[stage.id]),
                    )
                    for stage in results.stages
                ),
            )
        )
        scales = [item for item in results.items if item.item.kind == ItemKind.SCALE]
        if scales:
            self.add(
                Table(
                    (_("Aspect"), _("Answers"), _("Average (1 to 5)")),
                    tuple(
                        (
                            item.item.prompt,
                            str(item.overall.count),
                            average_text(item.overall.mean, self.locale),
                        )
                        for item in scales
                    ),
                )
            )
        for item in results.items:
            if item.item.kind == ItemKind.CHOICE:
                self.add(Heading(item.item.prompt, 3))
                self.add(
                    Table(
                        (_("Answer"), _("Count"), "%"),
                        tuple(
                            (
                                str(value),
                                str(item.overall.counts.get(value, 0)),
                                self.percent(item.overall.counts.get(value, 0), item.overall.count),
                            )
                            for value in item.values
                        ),
                    )
                )
            elif item.item.kind == ItemKind.TEXT and item.texts:
                self.add(Heading(item.item.prompt, 3))
                self.add(
                    Table(
                        (_("Stage"), _("Answer")),
                        tuple(
                            (i18n.stage_label(text.stage.number, self.locale), text.text)
                            for text in item.texts[:MAX_TEXT_ANSWERS]
                        ),
                        widths=(1, 5),
                    )
                )

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
    writer.polls()
    writer.questions()
    writer.evaluation()
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
