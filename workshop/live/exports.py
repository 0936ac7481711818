"""A poll's answers as CSV and XLSX: one row per person (name, position, organisation, its kind,
luring/daring, answer, time in the programme's zone), and in the workbook a sheet of the counts:
merged, and by source (the hall's hand count, the online votes). The hall's hand count has a CSV of
its own ("hitungan aula": one row per answer, who counted it and when), since its hands are no
persons.
Same conventions as every export (workshop/spreadsheets.py): ';' and a byte-order mark for Excel in
Indonesian, text never a formula."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from workshop import i18n
from workshop.auth.models import User
from workshop.db import Session
from workshop.live.handcount import stored_rows
from workshop.live.models import Poll, PollKind, PollVote
from workshop.live.results import poll_results, votes_with_voters
from workshop.offload import off_the_loop
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Organization, Program, Stage
from workshop.registration.models import Person, RegistrationStage
from workshop.reports.exports import style_header
from workshop.reports.labels import mode_label
from workshop.spreadsheets import append_row, csv_bytes, new_workbook, workbook_bytes

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # in the programme's zone


@dataclass(frozen=True)
class VoteRow:
    name: str
    position: str
    organization: str
    kind: str
    mode: str
    answer: str
    at: str


def answer_text(poll: Poll, answer: dict) -> str:
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        labels = {option.id: option.label for option in poll.options}
        return "; ".join(labels.get(option_id, "?") for option_id in answer["option_ids"])
    if poll.kind == PollKind.RATING:
        return str(answer["rating"])
    if poll.kind == PollKind.WORDCLOUD:
        return "; ".join(answer["words"])
    return answer["text"]


def vote_rows(session: Session, poll: Poll, program: Program) -> list[VoteRow]:
    zone = ZoneInfo(program.timezone)
    votes = session.execute(
        votes_with_voters(poll, PollVote, Person, Organization, RegistrationStage.mode).order_by(
            Person.name, PollVote.id
        )
    ).all()
    return [
        VoteRow(
            name=person.name,
            position=person.position,
            organization=organization.label,
            kind=str(ORG_KIND_LABELS[organization.kind]),
            mode=mode_label(mode),
            answer=answer_text(poll, vote.answer),
            at=vote.updated_at.astimezone(zone).strftime(TIME_FORMAT),
        )
        for vote, person, organization, mode in votes
    ]


def header() -> list[str]:
    return [_("Name"), _("Position"), _("Organisation"), _("Kind"), _("Mode"), _("Answer"), _("Time")]


def to_csv(poll: Poll, rows: list[VoteRow]) -> bytes:
    return csv_bytes(header(), map(_cells, rows))


def _cells(row: VoteRow) -> list[str]:
    return [row.name, row.position, row.organization, row.kind, row.mode, row.answer, row.at]


def hall_csv(session: Session, poll: Poll, stage: Stage, *, now: datetime) -> bytes:
    """One row per answer: its count, the hands counted in the hall, the online votes, and when and by
    whom the hall count was last set."""
    zone = ZoneInfo(stage.program.timezone)
    stored = {str(key): row for key, row in stored_rows(session, poll).items()}
    counters = {row.updated_by_id for row in stored.values() if row.updated_by_id is not None}
    staff = dict(session.execute(select(User.id, User.name).where(User.id.in_(counters))).tuples().all())
    rows = []
    for bar in poll_results(session, poll, stage, now)["bars"]:
        row = stored.get(bar["key"])
        counted = ["", ""]
        if row is not None:
            counted = [
                row.updated_at.astimezone(zone).strftime(TIME_FORMAT),
                staff.get(row.updated_by_id or 0, ""),
            ]
        rows.append([bar["label"], bar["count"], bar["hall"], bar["online"], *counted])
    header = [_("Answer"), _("Count"), _("Hall hand count"), _("Online votes"), _("Time"), _("Counted by")]
    return csv_bytes(header, rows)


def to_xlsx(
    session: Session, poll: Poll, stage: Stage, rows: list[VoteRow], *, now: datetime, locale: str
) -> bytes:
    """The answers and the counts; the workbook is built on gevent's thread pool (offload.py)."""
    results = poll_results(session, poll, stage, now)
    hall = results["hall"]
    summary = [
        [poll.question],
        [_("Answered"), results["total"]],
        *([[_("Hands counted in the hall"), hall["total"]]] if hall["entered"] else []),
        [],
        [_("Answer"), _("Count"), _("In person"), _("Remote"), _("Hall hand count"), _("Online votes")],
        *(
            [bar["label"], bar["count"], bar["luring"], bar["daring"], bar["hall"], bar["online"]]
            for bar in results["bars"]
        ),
        *([word["text"], word["count"]] for word in results["words"]),
        [],
        [_("Made"), i18n.format_datetime_long(now, stage.program.timezone, locale)],
    ]
    answers = [header(), *map(_cells, rows)]
    return off_the_loop(_poll_workbook, _("Answers")[:31], answers, _("Results")[:31], summary)


def _poll_workbook(answers_title: str, answers: list[list], summary_title: str, summary: list[list]) -> bytes:
    book, sheet = new_workbook(answers_title)
    for line in answers:
        append_row(sheet, line)
    style_header(sheet, len(answers[0]))
    for column, width in zip("ABCDEFG", (30, 24, 34, 20, 12, 40, 20), strict=True):
        sheet.column_dimensions[column].width = width
    results = book.create_sheet(summary_title)
    for line in summary:
        append_row(results, line)
    results.column_dimensions["A"].width = 40
    return workbook_bytes(book)
