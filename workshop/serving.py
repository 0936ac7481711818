"""The gevent WSGI handler for `python app.py`.

gevent's pywsgi writes a response's headers and body in two sends with Nagle's algorithm on,
so on a keep-alive connection the body waits for the client's delayed ACK (about 40 ms on
Linux, gevent issue #1233). We turn Nagle off on every accepted connection, and yield between
keep-alive requests so one busy connection cannot starve the others.
"""

import socket

import gevent
from gevent import pywsgi


class NoDelayHandler(pywsgi.WSGIHandler):
    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle()

    def handle_one_request(self):
        gevent.sleep(0)
        return super().handle_one_request()
