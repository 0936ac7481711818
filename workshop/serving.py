"""The gevent WSGI server of `python app.py`.

gevent's pywsgi writes a response's headers and body in two sends with Nagle's algorithm on,
so on a keep-alive connection the body waits for the client's delayed ACK (about 40 ms on
Linux, gevent issue #1233). We turn Nagle off on every accepted connection, and yield between
keep-alive requests so one busy connection cannot starve the others.

WebSockets: through gevent-websocket, whose handler upgrades the connection and reads its frames in
the request's own greenlet (Engine.IO uses it when it is installed, and then expects the socket in
the WSGI environ, where that handler puts it). simple-websocket, Engine.IO's other choice, reads
each WebSocket in a thread of its own, here one more greenlet per connection: about 16 KiB of RSS
per connected participant (issue 15, docs/benchmarks.md). We make the server ourselves
(`socketio.run` would pass a second handler).

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
from geventwebsocket.handler import WebSocketHandler

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_TIMEOUT = 5  # seconds the open requests get to finish after a stop signal
GC_THRESHOLD = (10_000, 20, 20)  # Python's defaults: (700, 10, 10)


def freeze_startup_objects() -> None:
    """Once the app is loaded: its objects out of the garbage collector's scans, and fewer
    collections (the server makes garbage in bursts of short-lived request objects)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


class NoDelayHandler(WebSocketHandler):
    # Requests are logged by the server's own log (none in production), not gevent-websocket's logger.
    log_request = pywsgi.WSGIHandler.log_request

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
