"""Run a gevent server script with TCP_NODELAY set on every accepted connection.

    python bench/nodelay.py app.py

gevent's pywsgi writes the response headers and the body in two send() calls and leaves Nagle's
algorithm on, so on a keep-alive connection the body waits for the client's delayed ACK
(about 40 ms on Linux). This wrapper shows what the server does without that wait.
"""

import runpy
import socket
import sys
from pathlib import Path

from gevent import monkey

monkey.patch_all()

from gevent import pywsgi  # noqa: E402

_handle = pywsgi.WSGIHandler.handle


def _handle_without_nagle(self):
    self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _handle(self)


pywsgi.WSGIHandler.handle = _handle_without_nagle

if __name__ == "__main__":
    script = Path(sys.argv[1]).resolve()
    sys.argv = sys.argv[1:]
    sys.path[0] = str(script.parent)
    runpy.run_path(str(script), run_name="__main__")
