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

gevent-websocket reads every byte a frame's header announces before anyone can look at it, and
Engine.IO checks a message's size (`max_http_buffer_size`) only once it holds the whole of it: an
anonymous client announcing a 300 MiB frame made the process buffer 300 MiB. `BoundedWebSocket`
refuses a message over Engine.IO's limit (MAX_BODY_BYTES, as for any HTTP body) as soon as a frame header
would take it past, before reading its payload, and closes with 1009 (message too big). It also
unmasks a frame with wsproto's masker: gevent-websocket's goes byte by byte in Python (27 us for
a 200-byte vote, 19 ms for 64 KiB; wsproto's 3 us and 0.12 ms).

Garbage collection: a server process holds a few hundred thousand objects from start-up (the app,
SQLAlchemy's mappers, the translations) that live as long as it does; with thousands of sockets
connected, each full collection scanned them all again and stalled the gevent loop for tens to
hundreds of milliseconds (bench/live_poll.py, docs/benchmarks.md). So once the app is loaded the
server moves them out of the collector's sight (`gc.freeze`) and collects the young generation
less often (`GC_THRESHOLD`).
"""

from __future__ import annotations

import contextlib
import gc
import signal
import socket
import struct

import gevent
from flask import Flask
from gevent import pywsgi
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header, WebSocket
from wsproto.frame_protocol import XorMaskerSimple

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_TIMEOUT = 5  # seconds the open requests get to finish after a stop signal
GC_THRESHOLD = (10_000, 20, 20)  # Python's defaults: (700, 10, 10)


def freeze_startup_objects() -> None:
    """Once the app is loaded: its objects out of the garbage collector's scans, and fewer
    collections (the server makes garbage in bursts of short-lived request objects)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


class MessageTooBig(Exception):
    pass


class BoundedWebSocket(WebSocket):
    """gevent-websocket's WebSocket, reading no message over its handler's `max_message_bytes`.
    It keeps its parent's slots (the handler's WebSocket becomes one in place), so the size of the
    message being read is kept on the handler, one per connection."""

    __slots__ = ()
    DATA_OPCODES = (WebSocket.OPCODE_CONTINUATION, WebSocket.OPCODE_TEXT, WebSocket.OPCODE_BINARY)

    def read_frame(self):
        header = Header.decode_header(self.stream)  # control frames: at most 125 bytes (it checks)
        if header.flags:
            raise ProtocolError("reserved bits set")
        if header.opcode in self.DATA_OPCODES:
            already = self.handler.message_bytes if header.opcode == self.OPCODE_CONTINUATION else 0
            self.handler.message_bytes = already + header.length
            if self.handler.message_bytes > self.handler.max_message_bytes:
                raise MessageTooBig
        payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise WebSocketError("Unexpected EOF reading frame payload")
        if header.mask:
            payload = XorMaskerSimple(header.mask).process(payload)
        return header, payload

    def receive(self):
        try:
            return super().receive()
        except MessageTooBig:
            self.close(1009)
            return None

    def close(self, code=1000, message=b""):
        """With the code in the close frame: gevent-websocket's leaves it out (the peer reads 1005)."""
        if not self.closed:
            with contextlib.suppress(WebSocketError):
                self.send_frame(struct.pack("!H", code) + self._encode_bytes(message), self.OPCODE_CLOSE)
            self.closed = True
        super().close()  # lets go of the stream: on a closed WebSocket it sends nothing


class NoDelayHandler(WebSocketHandler):
    # Requests are logged by the server's own log (none in production), not gevent-websocket's logger.
    log_request = pywsgi.WSGIHandler.log_request
    message_bytes = 0

    @property
    def max_message_bytes(self) -> int:
        return self.application.extensions["socketio"].server.eio.max_http_buffer_size

    def handle(self):
        # Set first, as every handler starts: set at a WebSocket's first frame, a key no other
        # handler had at that place, it turned the handler's shared-key __dict__ into a 1.5 KiB
        # table of its own on every connected socket (issue 15).
        self.message_bytes = 0
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle()

    def handle_one_request(self):
        gevent.sleep(0)
        return super().handle_one_request()

    def upgrade_connection(self):
        refusal = super().upgrade_connection()
        if refusal is None:
            self.websocket.__class__ = BoundedWebSocket
        return refusal


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
