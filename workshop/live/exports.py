"""A poll's answers as CSV and XLSX: one row per person (name, position, organisation, its kind,
luring/daring, answer, time in the programme's zone), and in the workbook a sheet of the counts.
Same conventions as the attendance exports (reports/exports.py): ';' and a byte-order mark for
Excel in Indonesian, cells that look like formulas defused."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy.orm import Session

from workshop import i18n
from workshop.live.models import Poll, PollKind, PollVote
from workshop.live.results import poll_results, votes_with_voters
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Organization, Program, Stage
from workshop.registration.models import Person, RegistrationStage
from workshop.reports.exports import CSV_DELIMITER, defused, style_header
from workshop.reports.labels import mode_label


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
            at=vote.updated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        )
        for vote, person, organization, mode in votes
    ]


def header() -> list[str]:
    return [_("Name"), _("Position"), _("Organisation"), _("Kind"), _("Mode"), _("Answer"), _("Time")]


def to_csv(poll: Poll, rows: list[VoteRow]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(header())
    for row in rows:
        writer.writerow([defused(value) for value in _cells(row)])
    return text.getvalue().encode("utf-8-sig")


def _cells(row: VoteRow) -> list[str]:
    return [row.name, row.position, row.organization, row.kind, row.mode, row.answer, row.at]


def to_xlsx(
    session: Session, poll: Poll, stage: Stage, rows: list[VoteRow], *, now: datetime, locale: str
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Answers")[:31]
    sheet.append(header())
    for row in rows:
        sheet.append(_cells(row))
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.data_type = "s"  # names and answers come from participants: never a formula
    style_header(sheet, len(header()))
    for column, width in zip("ABCDEFG", (30, 24, 34, 20, 12, 40, 20), strict=True):
        sheet.column_dimensions[column].width = width

    summary = book.create_sheet(_("Results")[:31])
    results = poll_results(session, poll, stage, now)
    summary.append([poll.question])
    summary.append([_("Answered"), results["total"]])
    summary.append([])
    summary.append([_("Answer"), _("Count"), _("In person"), _("Remote")])
    for bar in results["bars"]:
        summary.append([bar["label"], bar["count"], bar["luring"], bar["daring"]])
    for word in results["words"]:
        summary.append([word["text"], word["count"]])
    summary.append([])
    summary.append([_("Made"), i18n.format_datetime_long(now, stage.program.timezone, locale)])
    for line in summary.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # the question, options and words come from people: never a formula
    summary.column_dimensions["A"].width = 40
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
