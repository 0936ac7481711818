"""The laporan's chapters of what the participants answered, in words: the polls (the online
votes with the hall's hand count), their questions and the evaluation (document.py puts them in
the report's order)."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.evaluation.exports import average_text
from workshop.evaluation.models import ItemKind
from workshop.laporan.blocks import Chart, Heading, Paragraph, Table
from workshop.laporan.queries import AskedQuestion
from workshop.laporan.writing import Writer
from workshop.live.models import PollKind, QuestionStatus

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


def polls(writer: Writer) -> None:
    writer.chapter_heading(_("Poll results"))
    for facts in writer.facts.stages:
        writer.stage_heading(facts.stage)
        if not facts.polls:
            writer.add(Paragraph(_("No poll was held."), muted=True))
        for number, summary in enumerate(facts.polls, start=1):
            poll, results = summary.poll, summary.results
            hall = results.get("hall", {})
            answered = results["total"] + hall.get("total", 0)
            writer.add(Heading(f"{number}. {poll.question}", 3))
            if hall.get("entered"):
                line = _(
                    "%(num)d answers: %(online)d online, %(hall)d counted in the hall",
                    num=answered,
                    online=results["total"],
                    hall=hall["total"],
                )
            else:
                line = _("%(num)d answers", num=answered)
            writer.add(Paragraph(line))
            _poll_results(writer, poll.kind, results, answered, counted_in_hall=bool(hall.get("entered")))


def _poll_results(
    writer: Writer, kind: PollKind, results: dict, total: int, *, counted_in_hall: bool
) -> None:
    if results["bars"]:
        bars = [(bar, writer.percent(bar["count"], total)) for bar in results["bars"]]
        writer.add(
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
                (b["label"], str(b["online"]), str(b["hall"]), str(b["count"]), share) for b, share in bars
            )
        else:
            header, rows = (
                (_("Answer"), _("Count"), "%"),
                tuple((b["label"], str(b["count"]), share) for b, share in bars),
            )
        writer.add(Table(header, rows))
    if results["average"] is not None:
        writer.add(
            Paragraph(_("Average: %(average)s", average=average_text(results["average"], writer.locale)))
        )
    if results["words"]:
        writer.add(
            Table(
                (_("Word"), _("Count")),
                tuple((word["text"], str(word["count"])) for word in results["words"]),
            )
        )
    if kind == PollKind.TEXT and results["answers"]:
        writer.add(
            Table(
                (_("Answer"),),
                tuple((answer["text"],) for answer in results["answers"][:MAX_TEXT_ANSWERS]),
            )
        )


def questions(writer: Writer) -> None:
    writer.chapter_heading(_("Questions from participants"))
    for facts in writer.facts.stages:
        writer.stage_heading(facts.stage)
        if not facts.questions:
            writer.add(Paragraph(_("No question was asked."), muted=True))
            continue
        counted: dict[str, int] = {}  # per state, in the order of the list
        for question in facts.questions:
            state = question_label(replace(question, carried_in=False))
            counted[state] = counted.get(state, 0) + 1
        writer.add(Paragraph("; ".join(f"{state}: {count}" for state, count in counted.items())))
        writer.add(
            Table(
                (_("No."), _("Question"), _("Asked by"), _("Upvotes"), _("Status")),
                tuple(
                    (
                        str(number),
                        question.text,
                        f"{question.asker}, {question.organization}" if question.asker else _("Anonymous"),
                        str(question.upvotes),
                        question_label(question),
                    )
                    for number, question in enumerate(facts.questions, start=1)
                ),
                widths=(1, 7, 5, 2, 3),
            )
        )


def evaluation(writer: Writer) -> None:
    writer.chapter_heading(_("Evaluation"))
    results = writer.facts.evaluation
    if results is None:
        writer.add(Paragraph(_("No evaluation questionnaire was set."), muted=True))
        return
    writer.add(
        Table(
            (_("Stage"), _("Responses"), _("Participants"), "%"),
            tuple(
                (
                    i18n.stage_label(stage.number, writer.locale),
                    str(results.responded[stage.id]),
                    str(results.approved[stage.id]),
                    writer.percent(results.responded[stage.id], results.approved[stage.id]),
                )
                for stage in results.stages
            ),
        )
    )
    scales = [item for item in results.items if item.item.kind == ItemKind.SCALE]
    if scales:
        writer.add(
            Table(
                (_("Aspect"), _("Answers"), _("Average (1 to 5)")),
                tuple(
                    (
                        item.item.prompt,
                        str(item.overall.count),
                        average_text(item.overall.mean, writer.locale),
                    )
                    for item in scales
                ),
            )
        )
    for item in results.items:
        if item.item.kind == ItemKind.CHOICE:
            writer.add(Heading(item.item.prompt, 3))
            writer.add(
                Table(
                    (_("Answer"), _("Count"), "%"),
                    tuple(
                        (
                            str(value),
                            str(item.overall.counts.get(value, 0)),
                            writer.percent(item.overall.counts.get(value, 0), item.overall.count),
                        )
                        for value in item.values
                    ),
                )
            )
        elif item.item.kind == ItemKind.TEXT and item.texts:
            writer.add(Heading(item.item.prompt, 3))
            writer.add(
                Table(
                    (_("Stage"), _("Answer")),
                    tuple(
                        (i18n.stage_label(text.stage.number, writer.locale), text.text)
                        for text in item.texts[:MAX_TEXT_ANSWERS]
                    ),
                    widths=(1, 5),
                )
            )
