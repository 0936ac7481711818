"""`python app.py`'s connection handler serves requests in the order they arrived.

libev wakes the greenlets of the sockets one poll found readable last-first; the handler puts
them back in their arrival order (workshop/serving.py `ArrivalOrder`). A real gevent server in
a child process: one request keeps its loop busy while eight others arrive one after the other
on eight connections; they must be served in that order.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time

from tests import serving

SERVER = """
from gevent import monkey

monkey.patch_all()

import itertools
import time

from gevent import pywsgi

from workshop.serving import NoDelayHandler

served = itertools.count()


def app(environ, start_response):
    if environ["PATH_INFO"] == "/busy":  # hold the loop: no poll until it is done
        until = time.perf_counter() + 0.6
        while time.perf_counter() < until:
            pass
    body = str(next(served)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


server = pywsgi.WSGIServer(("127.0.0.1", 0), app, handler_class=NoDelayHandler, log=None)
server.start()
print(server.server_port, flush=True)
server.serve_forever()
"""


def test_requests_waiting_together_are_served_first_come_first_served():
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=serving.PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(process.stdout.readline())
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(9)]
        for connection in connections:
            connection.connect()
        time.sleep(0.2)  # every connection accepted, its greenlet waiting for a request
        connections[0].request("GET", "/busy")
        time.sleep(0.1)  # the server is busy from here on
        for connection in connections[1:]:
            connection.request("GET", "/")
            time.sleep(0.02)
        answers = [int(connection.getresponse().read()) for connection in connections]
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert answers == list(range(9))
