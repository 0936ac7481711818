"""The app's Flask class: what Flask redoes for every request context, done once where the answer
cannot change.

Flask-SocketIO pushes a request context of the socket's handshake environ around every event of
the socket (issue 15, docs/benchmarks.md), and Flask binds the URL map to that environ each time
(the host, the script name and the path decoded again) and asks `inspect` whether each teardown
function is a coroutine. Both answers are kept: the URL adapter in the environ (it only reads
the environ it was bound to, and a socket's environ does not change), and the functions found plain
(a function does not become a coroutine; at most PLAIN_FUNCTIONS_KEPT, the app's registered
functions being far fewer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from werkzeug.routing import MapAdapter

URL_ADAPTER = "workshop.url_adapter"  # environ key
PLAIN_FUNCTIONS_KEPT = 4096


class WorkshopFlask(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set[Callable[..., Any]] = set()

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is None:
            return super().create_url_adapter(None)
        adapter = request.environ.get(URL_ADAPTER)
        if adapter is None:
            adapter = super().create_url_adapter(request)  # raises for a host it does not trust
            request.environ[URL_ADAPTER] = adapter
        return adapter

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func and len(self._plain_functions) < PLAIN_FUNCTIONS_KEPT:
            self._plain_functions.add(func)
        return synced
