"""`python app.py`'s connection handler serves requests in the order they arrived.

libev wakes the greenlets of the sockets one poll found readable last-first; the handler queues
the requests in their arrival order and runs the queue after each poll (workshop/serving.py
`ArrivalQueue`). A real gevent server in a child process: one request keeps its loop busy while
eight others arrive one after the other on eight connections; they must be served in that order.
A request that waits for its body does not hold up those behind it.
"""

from __future__ import annotations

import http.client
import socket
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
    if environ["PATH_INFO"] == "/body":
        environ["wsgi.input"].read()
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


def test_a_request_waiting_for_its_body_lets_the_next_ones_through():
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=serving.PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(process.stdout.readline())
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")  # no body yet
        time.sleep(0.2)
        others = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(3)]
        for connection in others:
            connection.request("GET", "/")
        answered = [connection.getresponse().status for connection in others]
        slow.sendall(b"hello")
        slow_answer = slow.recv(1024)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert answered == [200, 200, 200]
    assert slow_answer.startswith(b"HTTP/1.1 200")
