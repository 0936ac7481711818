"""Log output: plain (the default) or one JSON object per line on stderr; either way without the
tokens of personal links (they show as /p/[redacted]).

LOG_FORMAT=json is for production, where a log collector (journald, Docker, Loki, ...) reads
stderr: every record becomes one line such as
{"time": "2026-06-24T02:00:00.123Z", "level": "INFO", "logger": "workshop.reminders.jobs",
 "process": 1234, "message": "reminders: 3 new, 3 sent, ..."}
with "exception" holding the traceback when there is one. gunicorn's own log and its access log
use the same formatter (workshop/logformat.py, loaded by deploy/gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from flask.logging import default_handler

from workshop.logformat import JsonFormatter, redacted

_HANDLER_MARK = "_bimtek_handler"


class RedactLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/p/" in message:
            record.msg, record.args = redacted(message), ()
        if record.exc_info and record.exc_text is None:
            record.exc_text = redacted(logging.Formatter().formatException(record.exc_info))
        return True


def setup_logging(config: Mapping) -> None:
    """Apply LOG_FORMAT. "plain" leaves logging as it is; "json" puts one handler on the root logger
    (replacing the one an earlier call added, so calling it again is harmless), sends Flask's app
    logger through it, and lets the app's own INFO records through."""
    if not any(isinstance(own, RedactLinks) for own in default_handler.filters):
        default_handler.addFilter(RedactLinks())
    if config.get("LOG_FORMAT", "plain") != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactLinks())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    # Our own INFO lines (reminder ticks, ...); libraries only from WARNING up (APScheduler would
    # log "Running job" at every tick).
    ours = logging.getLogger("workshop")
    if ours.level == logging.NOTSET:
        ours.setLevel(logging.INFO)
    # Flask's default handler writes plain text to stderr: let the root handler write instead.
    ours.removeHandler(default_handler)
    # python-socketio and python-engineio give their logger a plain handler of its own when its
    # level is unset: set their default level first, and drop such a handler an earlier app added.
    for name in ("socketio.server", "engineio.server"):
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            library.setLevel(logging.ERROR)
        for own in list(library.handlers):
            library.removeHandler(own)
