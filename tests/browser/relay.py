"""A network the test can cut: a TCP relay between the browser and the live server.

Chromium's offline emulation (Playwright's `context.set_offline`) makes `navigator.onLine` false
and fails requests inside the browser, but it is not a cut cable: a request made while a document
or a service worker is starting can pass it (seen once in CI: an offline page reloaded from its
service worker stored three queued check-ins on the server, though the page showed them still
waiting). A test that must know nothing reached the server while "offline" sends the browser
through this relay and cuts it as well: then nothing can.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class CuttableRelay:
    """Listens on a free loopback port and relays each connection to `target_port`, until `cut()`:
    then every open connection is closed and new ones are closed at once (counted in `refused`),
    until `restore()`."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.refused = 0
        self._cut = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for connection in self._open:
                _close(connection)
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self.cut()
        _close(self.listener)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._cut:
                    self.refused += 1
                    _close(client)
                    continue
                try:
                    server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                except OSError:
                    _close(client)
                    continue
                server.settimeout(None)
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with self._lock:
                self._open.discard(end)
            _close(end)


def _close(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        connection.close()
