"""The one exception services raise when they refuse an operation."""

from __future__ import annotations


class ServiceError(Exception):
    """`code` says why (views turn it into text in the user's language); `field` names the form
    field it belongs to, if any. Each feature subclasses it under its own name."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field
