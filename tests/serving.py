"""Helpers for tests that run the app as real server processes (gunicorn, `python app.py`, nginx
in front): a migrated database, a staff login over HTTP with its CSRF token, and a Socket.IO
connect over a real WebSocket (Engine.IO v4 / Socket.IO v5 text frames, no client library)."""

from __future__ import annotations

import contextlib
import ctypes
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
SECRET_KEY = "serving-test-secret-key"
STAFF_PASSWORD = "serving test password"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server process: ours, minus settings that would change the outcome."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "WHATSAPP_", "REMINDER_", "LIVE_", "SOCKETIO_", "RATELIMIT_"))
        and key not in {"BIMTEK_ENV", "COOKIE_SECURE", "PROXY_FIX_HOPS", "LOG_FORMAT", "EMBEDDED_SCHEDULER"}
    }
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, FLASK_APP="workshop", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def prepare_database(database_url: str) -> None:
    """`flask db upgrade` and one admin account, as an operator would."""
    env = environment(database_url)
    subprocess.run([FLASK, "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [
            FLASK,
            "create-user",
            "admin",
            "--name",
            "Admin Bimtek",
            "--role",
            "admin",
            "--password",
            STAFF_PASSWORD,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def wait_for(url: str, process: subprocess.Popen, *, timeout: float = 30, status: int = 200) -> bytes:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return response.read()
                last = response.status
        except urllib.error.HTTPError as error:
            last = error.code
            if error.code == status:
                return error.read()
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer {status} within {timeout} s (last: {last})")


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Browser:
    """A cookie-keeping HTTP client, like a browser without JavaScript."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.base_url + path, headers=headers or {})
        return self.opener.open(request, timeout=10)

    def log_in(self, username: str = "admin", password: str = STAFF_PASSWORD) -> str:
        """Log in with the login form; returns the page the login redirected to."""
        page = self.get("/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "username": username, "password": password}
        ).encode()
        request = urllib.request.Request(
            self.base_url + "/login", data=form, headers={"Origin": self.base_url}
        )
        with self.opener.open(request, timeout=10) as response:
            assert response.status == 200
            assert any(cookie.name == "session" for cookie in self.cookies), "no session cookie after login"
            return response.url

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)


class WebSocket:
    """A small blocking WebSocket client on wsproto (what simple-websocket is built on): it sends
    `Host` with the port as browsers do (the Socket.IO same-origin check compares it with the
    Origin), and keeps frames that arrive together with the handshake's answer."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float = 10):
        parsed = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout=timeout)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.messages: list[str] = []
        self.accepted = False
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        self.sock.sendall(
            self.ws.send(Request(host=parsed.netloc, target=target, extra_headers=list(headers.items())))
        )
        while not self.accepted:
            self._read(timeout)

    def _read(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.ws.receive_data(data)
        text = []
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = True
            elif isinstance(event, RejectConnection):
                raise ConnectionError(f"WebSocket refused: HTTP {event.status_code}")
            elif isinstance(event, TextMessage):
                text.append(event.data)
                if event.message_finished:
                    self.messages.append("".join(text))
                    text = []
            elif isinstance(event, CloseConnection):
                raise ConnectionError(f"WebSocket closed: {event.code} {event.reason}")
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))

    def receive(self, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while not self.messages:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no WebSocket message")
            self._read(remaining)
        return self.messages.pop(0)

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        self.sock.close()


def socketio_connect(base_url: str, cookie: str = "", timeout: float = 10) -> tuple[dict, str]:
    """Open a Socket.IO connection over a WebSocket (no long-polling first) and connect to the
    main namespace. Returns (the Engine.IO open packet, the namespace answer: '40{...}' when
    accepted, '44{...}' when refused). Fails if the WebSocket upgrade does not happen."""
    url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    headers = {"Origin": base_url.rstrip("/")}
    if cookie:
        headers["Cookie"] = cookie
    ws = WebSocket(url, headers, timeout)
    try:
        opened = ws.receive(timeout)
        assert opened.startswith("0"), opened
        ws.send("40")
        answer = ws.receive(timeout)
        while answer == "2":  # a ping in between: answer it
            ws.send("3")
            answer = ws.receive(timeout)
        return json.loads(opened[1:]), answer
    finally:
        ws.close()


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(command: list[str], **kwargs) -> subprocess.Popen:
    """Popen, but the server gets SIGTERM if the test process dies without its teardown (killed by
    a time-out, say), so no server outlives the test run."""
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **kwargs)


def stop(process: subprocess.Popen, timeout: float = 30) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
