"""The gevent WSGI server of `python app.py`.

gevent's pywsgi writes a response's headers and body in two sends with Nagle's algorithm on,
so on a keep-alive connection the body waits for the client's delayed ACK (about 40 ms on
Linux, gevent issue #1233). We turn Nagle off on every accepted connection, and yield between
keep-alive requests so one busy connection cannot starve the others.

WebSockets: Engine.IO uses gevent-websocket when that package is importable (it then expects the
socket in the WSGI environ, put there by gevent-websocket's handler), and simple-websocket
otherwise. So our handler builds on gevent-websocket's handler when it is there, and on pywsgi's
own when not; and we make the server ourselves (`socketio.run` would pass a second handler).

Garbage collection: a server process holds a few hundred thousand objects from start-up (the app,
SQLAlchemy's mappers, the translations) that live as long as it does; with thousands of sockets
connected, each full collection scanned them all again and stalled the gevent loop for tens to
hundreds of milliseconds (bench/live_poll.py, docs/benchmarks.md). So once the app is loaded the
server moves them out of the collector's sight (`gc.freeze`) and collects the young generation
less often (`GC_THRESHOLD`).
"""

from __future__ import annotations

import gc
import signal
import socket

import gevent
from flask import Flask
from gevent import pywsgi

try:
    from geventwebsocket.handler import WebSocketHandler as BaseHandler
except ImportError:  # the usual case: simple-websocket serves the WebSockets
    BaseHandler = pywsgi.WSGIHandler

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_TIMEOUT = 5  # seconds the open requests get to finish after a stop signal
GC_THRESHOLD = (10_000, 20, 20)  # Python's defaults: (700, 10, 10)


def freeze_startup_objects() -> None:
    """Once the app is loaded: its objects out of the garbage collector's scans, and fewer
    collections (the server makes garbage in bursts of short-lived request objects)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


class NoDelayHandler(BaseHandler):
    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle()

    def handle_one_request(self):
        gevent.sleep(0)
        return super().handle_one_request()


def serve(app: Flask, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT (Ctrl-C), then return: a clean stop, without a traceback."""
    server = pywsgi.WSGIServer(
        (host, port), app, handler_class=NoDelayHandler, log="default" if app.debug else None
    )
    server.stop_timeout = STOP_TIMEOUT
    freeze_startup_objects()
    for signum in STOP_SIGNALS:
        gevent.signal_handler(signum, server.stop)
    server.serve_forever()
