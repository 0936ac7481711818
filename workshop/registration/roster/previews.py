"""The stored preview of a roster import (`RosterImport.rows`, JSON): the file's header and cells,
the columns chosen, the checked rows, the rows left out."""

from __future__ import annotations

import json
from collections.abc import Sequence

from workshop.registration.models import RosterImport
from workshop.registration.roster import checks, columns
from workshop.registration.roster.checks import CheckRules
from workshop.registration.roster.files import Table

PAYLOAD_VERSION = 2
DEFAULT_MODES = ("luring", "daring")


def payload(record: RosterImport) -> dict:
    """The preview's content: the file's header and cells, the columns chosen, the checked rows."""
    return content_of(record.rows)


def content_of(stored: str) -> dict:
    content = json.loads(stored)
    return content if content.get("version") == PAYLOAD_VERSION else _from_version_1(content)


def as_stored(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False)


def _from_version_1(content: dict) -> dict:
    """A preview stored before the columns could be chosen: its rows held the cells by field."""
    rows = content.get("rows", [])
    fields = list(dict.fromkeys(key for row in rows for key in row.get("raw", {})))
    stages = list(dict.fromkeys(key for row in rows for key in row.get("raw_stages", {})))
    names = content.get("columns", {})
    mapping = [*fields, *(f"tahap_{position}" for position in stages)]
    return {
        "version": PAYLOAD_VERSION,
        "header_row": content.get("header_row", 1),
        "header": [names.get(target, target) for target in mapping],
        "mapping": mapping,
        "default_mode": "",
        "cells": [
            [
                row["row"],
                [row["raw"].get(field, "") for field in fields]
                + [row["raw_stages"].get(position, "") for position in stages],
            ]
            for row in rows
        ],
        "left_out": [],
        "rows": rows,
    }


def missing_columns(content: dict, stage_positions: Sequence[int]) -> list[str]:
    return columns.missing(content["mapping"], stage_positions, content["default_mode"])


def missing_column_labels(content: dict, stage_positions: Sequence[int]) -> list[str]:
    return [str(columns.MISSING_LABELS[key]) for key in missing_columns(content, stage_positions)]


def bad_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["problems"]]


def check_content(content: dict, rules: CheckRules) -> dict:
    """The content with its rows checked with the columns chosen (none while columns are missing)."""
    if missing_columns(content, rules.positions):
        return {**content, "rows": [], "left_out": []}
    people, left_out = checks.people_rows(content)
    rows = checks.check_rows(rules, people, content["default_mode"])
    return {**content, "rows": json.loads(json.dumps(rows, ensure_ascii=False)), "left_out": left_out}


def _width(table: Table) -> int:
    """Columns in use: up to the last one with a header or any value."""
    filled = [
        column
        for cells in (table.header, *(cells for _number, cells in table.rows))
        for column, cell in enumerate(cells)
        if cell
    ]
    return max(filled) + 1 if filled else 0


def preview_content(table: Table, rules: CheckRules) -> dict:
    """Recognise the columns of a file read by files.read_table and check its rows."""
    width = _width(table)
    header = (table.header + [""] * width)[:width]
    content = {
        "version": PAYLOAD_VERSION,
        "header_row": table.header_row,
        "header": header,
        "mapping": columns.guess_mapping(header, rules.positions),
        "default_mode": "",
        "cells": [[number, cells[:width]] for number, cells in table.rows],
    }
    return check_content(content, rules)
