"""The evaluation as a spreadsheet (XLSX: the responses, and a summary per item) and as CSV (the
responses), with the conventions of every export (workshop/spreadsheets.py)."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.evaluation.models import ItemKind
from workshop.evaluation.queries import Results, Tally
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.registration.models import Mode
from workshop.spreadsheets import append_row, csv_bytes, new_workbook, workbook_bytes

# The same words as the attendance report: "Luring" / "Daring" in Indonesian.
MODE_LABELS = {Mode.LURING: _l("In person"), Mode.DARING: _l("Remote")}


def mode_label(mode: Mode | None) -> str:
    return str(MODE_LABELS[mode]) if mode is not None else ""


def average_text(mean: float | None, locale: str) -> str:
    """'4,25' in Indonesian, '4.25' in English (two decimals); '-' without answers."""
    return "-" if mean is None else format_decimal(mean, format="0.00", locale=locale)


def response_header(results: Results) -> list[str]:
    return [
        _("Stage"),
        _("Name"),
        _("Organisation"),
        _("Kind of organisation"),
        _("Attendance"),
        _("Saved"),
        *[f"{position}. {result.item.prompt}" for position, result in enumerate(results.items, start=1)],
    ]


def response_rows(results: Results, timezone: str, locale: str) -> list[list]:
    rows = []
    for respondent in results.respondents:
        answers = {answer.item_id: answer for answer in respondent.response.answers}
        cells: list = [
            i18n.stage_label(respondent.stage.number, locale),
            respondent.registration.person.name,
            respondent.registration.person.organization.label,
            str(ORG_KIND_LABELS[respondent.kind]),
            mode_label(respondent.mode),
            i18n.format_datetime_long(respondent.response.updated_at, timezone, locale),
        ]
        for result in results.items:
            answer = answers.get(result.item.id)
            if answer is None:
                cells.append("")
            elif result.item.kind == ItemKind.SCALE:
                cells.append(answer.rating)
            else:
                cells.append(answer.text)
        rows.append(cells)
    return rows


def summary_header(results: Results) -> list[str]:
    return [
        _("Question"),
        _("Answers"),
        _("Average"),
        *[f"{_('Average')} {mode_label(mode)}" for mode in results.modes],
        *[f"{_('Average')} {ORG_KIND_LABELS[kind]}" for kind in results.kinds],
        "1",
        "2",
        "3",
        "4",
        "5",
    ]


def summary_rows(results: Results) -> list[list]:
    """One row per rating item: its averages (exact, as numbers) and how many gave each rating; one
    row per option of a choice item, with its count."""
    rows: list[list] = []
    blanks = len(results.modes) + len(results.kinds)
    for result in results.items:
        if result.item.kind == ItemKind.SCALE:
            rows.append(
                [
                    result.item.prompt,
                    result.overall.count,
                    result.overall.mean,
                    *[result.by_mode.get(mode, Tally()).mean for mode in results.modes],
                    *[result.by_kind.get(kind, Tally()).mean for kind in results.kinds],
                    *[result.overall.counts.get(value, 0) for value in result.values],
                ]
            )
        elif result.item.kind == ItemKind.CHOICE:
            rows.append([result.item.prompt, result.overall.count])
            for option in result.values:
                rows.append([f"  {option}", result.overall.counts.get(option, 0), None, *[None] * blanks])
    return rows


def to_xlsx(results: Results, *, title: str, timezone: str, locale: str) -> bytes:
    book, sheet = new_workbook(_("Responses")[:31])
    header = response_header(results)
    for line in [header, *response_rows(results, timezone, locale)]:
        append_row(sheet, line)
    _bold_header(sheet, len(header))
    summary = book.create_sheet(_("Summary")[:31])
    summary_head = summary_header(results)
    for line in [summary_head, *summary_rows(results)]:
        append_row(summary, line)
    _bold_header(summary, len(summary_head))
    summary.column_dimensions["A"].width = 48
    append_row(summary, [])
    append_row(summary, [title])
    return workbook_bytes(book)


def _bold_header(sheet, width: int) -> None:
    from openpyxl.styles import Alignment, Font  # where a workbook is made (workshop/spreadsheets.py)

    for column in range(1, width + 1):
        cell = sheet.cell(row=1, column=column)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def to_csv(results: Results, *, timezone: str, locale: str) -> bytes:
    return csv_bytes(response_header(results), response_rows(results, timezone, locale))
