"""The one JSON log line, shared by the app (workshop/logs.py) and gunicorn (deploy/gunicorn.conf.py).

Standard library only, and importing nothing from the workshop package: gunicorn's master loads
this file by its path (deploy/gunicorn.conf.py), before any worker has monkey-patched, so it
must not load the app.

{"time": "2026-06-24T02:00:00.123Z", "level": "INFO", "logger": "workshop.reminders.jobs",
 "process": 1234, "message": "reminders: 3 new, 3 sent, ..."}, with "exception" holding the
traceback when there is one, and whatever the record was given with `extra=`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# A personal link (/p/<token>) is a login: no log line keeps its token.
PERSONAL_LINK = re.compile(r"/p/[^/?#\s\"]+")

# The attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime", "taskName"}
)


def redacted(text: str) -> str:
    return PERSONAL_LINK.sub("/p/[redacted]", text or "")


def timestamp(created: float | None = None) -> str:
    """'2026-06-24T02:00:00.123Z': the record's moment (or now) in UTC, to the millisecond."""
    moment = datetime.now(UTC) if created is None else datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
