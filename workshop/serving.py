"""The gevent WSGI server of `python app.py`.

gevent's pywsgi writes a response's headers and body in two sends with Nagle's algorithm on,
so on a keep-alive connection the body waits for the client's delayed ACK (about 40 ms on
Linux, gevent issue #1233). We turn Nagle off on every accepted connection, and yield between
keep-alive requests so one busy connection cannot starve the others.

WebSockets: Engine.IO uses gevent-websocket when that package is importable (it then expects the
socket in the WSGI environ, put there by gevent-websocket's handler), and simple-websocket
otherwise. So our handler builds on gevent-websocket's handler when it is there, and on pywsgi's
own when not; and we make the server ourselves (`socketio.run` would pass a second handler).
"""

from __future__ import annotations

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
    for signum in STOP_SIGNALS:
        gevent.signal_handler(signum, server.stop)
    server.serve_forever()
