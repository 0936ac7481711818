"""Helpers for tests that run the app as real server processes (gunicorn, `python app.py`, nginx
in front): a migrated database, a staff login over HTTP with its CSRF token, and a Socket.IO
connect over a real WebSocket (Engine.IO v4 / Socket.IO v5 text frames, no client library)."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime
import grp
import http.client
import http.cookiejar
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from deploy import render

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
SECRET_KEY = "serving-test-secret-key"
STAFF_PASSWORD = "serving test password"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def nginx_foreground(prefix: Path) -> list[str]:
    """The command that runs nginx with the configuration in `prefix` in the foreground, its workers
    as the user running the tests: started as root they would otherwise run as nobody, who cannot
    read a checkout in a private folder (root's home, `mktemp -d`) nor write under pytest's tmp_path."""
    directives = "daemon off;"
    if os.geteuid() == 0:
        directives += f" user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    return render.nginx_command(prefix, "-g", directives)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_command(port: int, directory: Path) -> list[str]:
    """A throwaway redis-server on loopback: no snapshots, no append-only file."""
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]


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


def seed_programme(database_url: str) -> int:
    """A programme with one stage (tests.factories) in the database; returns its id."""
    from tests import factories
    from workshop import create_app
    from workshop.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        program_id = factories.program(db.session, stages=1).id
        db.session.commit()
        db.engine.dispose()
    return program_id


@dataclasses.dataclass(frozen=True)
class LiveStage:
    stage_id: int
    poll_id: int
    options: list[int]
    registration_ids: list[int]
    user_ids: list[int]
    tokens: list[str]  # each participant's personal link


def seed_live_stage(app: Flask, participants: int) -> LiveStage:
    """A one-stage programme running from an hour ago to six hours from now, `participants`
    approved registrations with their accounts and personal links, and an open single-choice poll
    ("Ya", "Belum") whose answer may change."""
    from tests import factories
    from workshop.auth.models import Role
    from workshop.db import db
    from workshop.live import services as live
    from workshop.live.models import PollKind
    from workshop.registration import links
    from workshop.registration.models import Status
    from workshop.registration.services import ensure_participant_user

    with app.app_context():
        now = datetime.datetime.now(datetime.UTC)
        program = factories.program(db.session, stages=1)
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = factories.running_now(now, datetime.timedelta(hours=6))
        registrations = [
            factories.registration(db.session, program, status=Status.APPROVED) for _ in range(participants)
        ]
        users = [ensure_participant_user(db.session, registration.person) for registration in registrations]
        organiser = factories.staff(db.session, Role.PANITIA)
        draft = live.PollDraft(
            kind=PollKind.SINGLE, question="Siap?", options=["Ya", "Belum"], allow_change=True
        )
        poll = live.create_poll(db.session, stage, draft, actor=organiser)
        live.open_poll(db.session, poll, actor=organiser, now=now)
        tokens = [links.issue(registration, SECRET_KEY) for registration in registrations]
        db.session.commit()
        seeded = LiveStage(
            stage.id,
            poll.id,
            [option.id for option in poll.options],
            [registration.id for registration in registrations],
            [user.id for user in users],
            tokens,
        )
        db.session.remove()
    return seeded


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


def post(browser: Browser, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST `body` as `browser`: (the status, the answer's text), errors included."""
    request = urllib.request.Request(browser.base_url + path, data=body, headers=headers, method="POST")
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


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


APP_PY = [sys.executable, "app.py"]
GUNICORN = [
    str(Path(sys.executable).with_name("gunicorn")),
    *("-c", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"), "workshop:create_app()"),
]


@contextlib.contextmanager
def served(
    directory: Path, command: list[str] = APP_PY, *, database_url: str | None = None, log: Path | None = None
) -> Iterator[tuple[subprocess.Popen, str]]:
    """The app served by `command` (`python app.py` as scripts/run.sh starts it, or GUNICORN with
    deploy/gunicorn.conf.py) on `database_url` (an empty database, e.g. the test run's
    `make_database_url`), by default a new SQLite file in `directory`, migrated: (the process, its
    base URL). With `log`, the server's output (stdout and stderr) is written there."""
    url = database_url or f"sqlite:///{directory / 'bimtek.sqlite3'}"
    prepare_database(url)
    port = free_port()
    env = environment(url, HOST="127.0.0.1", PORT=str(port))
    with contextlib.ExitStack() as files:
        stdout = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        stderr = subprocess.STDOUT if log is not None else None
        process = start(command, cwd=PROJECT_ROOT, env=env, stdout=stdout, stderr=stderr)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for(base_url + "/healthz", process)
            yield process, base_url
        finally:
            stop(process)


def assert_ran_cleanly(process: subprocess.Popen, base_url: str, log: Path) -> None:
    """The server still runs, /healthz answers ok, and its log (served's `log`) holds no error,
    no traceback and no 500."""
    assert process.poll() is None
    status, health = get_json(f"{base_url}/healthz")
    assert (status, health["status"]) == (200, "ok")
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert not re.search(r"Exception on |\b500\b|ERROR", text), text


@dataclasses.dataclass
class Served:
    """What a module's tests of one served app share (served_with_app)."""

    url: str
    process: subprocess.Popen
    log: Path
    app: Flask  # in the test process, on the server's database


@contextlib.contextmanager
def served_with_app(
    directory: Path, database_url: str
) -> Iterator[tuple[subprocess.Popen, str, Path, Flask]]:
    """`python app.py` served on `database_url` with its log in `directory`, and an app in the test
    process on the same database, to seed and read it: (the process, its base URL, the log, the app)."""
    from workshop import create_app
    from workshop.db import db

    log = directory / "server.log"
    with served(directory, database_url=database_url, log=log) as (process, url):
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
        try:
            yield process, url, log, app
        finally:
            with app.app_context():
                db.engine.dispose()


def serving_pid(process: subprocess.Popen) -> int:
    """The process that serves requests: gunicorn's worker (the master's one child), or the process."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return int(children[0]) if children else process.pid


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024


# Helpers for several clients at once (tests/test_multiprocess.py): each from its own loopback
# address (127.0.0.N), so nginx's `hash $remote_addr consistent` spreads them over the processes
# and per-address rate limits count each one apart.


class _FromAddress(urllib.request.HTTPHandler):
    """HTTP connections from a given local address."""

    def __init__(self, source_address: str):
        super().__init__()
        self.source_address = source_address

    def http_open(self, req):
        return self.do_open(http.client.HTTPConnection, req, source_address=(self.source_address, 0))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx answer is returned as it is


class Participant(Browser):
    """A participant's browser from its own loopback address: logs in with the personal link
    (GET shows the confirm page, the POST logs in), reads JSON, and opens Socket.IO connections
    from the same address. Redirects are not followed (a login answers 302)."""

    def __init__(self, base_url: str, source_address: str = "127.0.0.1"):
        super().__init__(base_url)
        self.source_address = source_address
        self.opener = urllib.request.build_opener(
            _FromAddress(source_address), urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def log_in_with_link(self, token: str) -> None:
        page = self.get(f"/p/{token}").read().decode()
        csrf_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert csrf_token, "no CSRF token on the personal-link page"
        form = urllib.parse.urlencode({"csrf_token": csrf_token.group(1)}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/p/{token}", data=form, headers={"Origin": self.base_url}
        )
        try:
            response = self.opener.open(request, timeout=20)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            assert response.status == 302, f"personal-link login answered {response.status}"
        assert any(cookie.name == "session" for cookie in self.cookies), "no session cookie after login"

    def get_json(self, path: str, base_url: str | None = None, timeout: float = 10) -> tuple[int, dict]:
        request = urllib.request.Request((base_url or self.base_url).rstrip("/") + path)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, {}

    def socket(self, base_url: str | None = None, timeout: float = 10) -> SocketIOClient:
        return SocketIOClient(
            base_url or self.base_url,
            self.cookie_header(),
            source_address=self.source_address,
            timeout=timeout,
        )


class SocketIOClient:
    """A Socket.IO client over a real WebSocket with a reader thread, for tests that keep
    connections open: it answers Engine.IO pings, records every event with the time it arrived
    (`time.monotonic()`), and emits with acks (the ack's arrival time is kept too).

    Only text packets of the main namespace: `42[...]` events, `42<id>[...]` emits with an ack,
    `43<id>[...]` acks. `closed` is set when the connection ends, for whatever reason."""

    def __init__(self, base_url: str, cookie: str = "", *, source_address: str | None = None, timeout=10):
        parsed = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.sock = socket.create_connection(
            (parsed.hostname, parsed.port or 80),
            timeout=timeout,
            source_address=(source_address, 0) if source_address else None,
        )
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.send_lock = threading.Lock()
        self.changed = threading.Condition()
        self.events: list[tuple[float, str, object]] = []
        self.acks: dict[int, tuple[float, object]] = {}
        self.closed = threading.Event()
        self.close_reason = ""
        self.connected_at: float | None = None  # time.monotonic() of the accepted connect ...
        self.closed_at: float | None = None  # ... and of its end
        self._ack_ids = iter(range(1, 1 << 30))
        self._frames: list[str] = []
        self._text: list[str] = []
        headers = [("Origin", self.base_url)]
        if cookie:
            headers.append(("Cookie", cookie))
        try:
            self._send(
                Request(
                    host=parsed.netloc,
                    target="/socket.io/?EIO=4&transport=websocket",
                    extra_headers=headers,
                )
            )
            deadline = time.monotonic() + timeout
            accepted = False
            while not accepted or len(self._frames) < 1:
                accepted = self._read(deadline) or accepted
            opened = self._frames.pop(0)
            assert opened.startswith("0{"), opened
            self.engine = json.loads(opened[1:])
            self._send_text("40")
            while True:
                while not self._frames:
                    self._read(deadline)
                answer = self._frames.pop(0)
                if answer == "2":
                    self._send_text("3")
                    continue
                break
            if not answer.startswith("40"):
                raise ConnectionRefusedError(f"Socket.IO connect refused: {answer}")
            self.sid = json.loads(answer[2:])["sid"]
        except BaseException:
            self.sock.close()
            raise
        pending, self._frames = self._frames, []
        for frame in pending:
            self._handle(frame, time.monotonic())
        self.sock.settimeout(None)
        self.connected_at = time.monotonic()
        self.reader = threading.Thread(target=self._reader, daemon=True)
        self.reader.start()

    # -- wire ------------------------------------------------------------------------------------

    def _send(self, event) -> None:
        with self.send_lock:
            self.sock.sendall(self.ws.send(event))

    def _send_text(self, text: str) -> None:
        self._send(TextMessage(data=text))

    def _read(self, deadline: float | None) -> bool:
        """Read once; returns True when the handshake's answer was among what arrived."""
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the Socket.IO handshake did not finish")
            self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.ws.receive_data(data)
        accepted = False
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                accepted = True
            elif isinstance(event, RejectConnection):
                raise ConnectionError(f"WebSocket refused: HTTP {event.status_code}")
            elif isinstance(event, TextMessage):
                self._text.append(event.data)
                if event.message_finished:
                    self._frames.append("".join(self._text))
                    self._text = []
            elif isinstance(event, CloseConnection):
                raise ConnectionError(f"WebSocket closed: {event.code} {event.reason}")
            elif isinstance(event, Ping):
                self._send(event.response())
        return accepted

    def _reader(self) -> None:
        try:
            while True:
                self._read(None)
                arrived = time.monotonic()
                frames, self._frames = self._frames, []
                for frame in frames:
                    self._handle(frame, arrived)
        except Exception as error:  # EOF, reset, a close frame: the connection is over
            self.close_reason = f"{type(error).__name__}: {error}"
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()
            with self.changed:
                self.closed_at = time.monotonic()
                self.closed.set()
                self.changed.notify_all()

    def _handle(self, frame: str, arrived: float) -> None:
        if frame == "2":
            with contextlib.suppress(OSError):
                self._send_text("3")
            return
        if frame.startswith("1") or frame.startswith("41"):
            raise ConnectionError("closed by the server")
        match = re.match(r"4([23])(\d*)(.*)", frame, re.S)
        if match is None:
            return
        kind, number, body = match.groups()
        payload = json.loads(body) if body else []
        with self.changed:
            if kind == "2" and payload:
                self.events.append((arrived, payload[0], payload[1] if len(payload) > 1 else None))
            elif kind == "3" and number:
                self.acks[int(number)] = (arrived, payload[0] if payload else None)
            self.changed.notify_all()

    # -- API -------------------------------------------------------------------------------------

    def send(self, event: str, data) -> int:
        """Emit with an ack id, without waiting for the ack; returns the id."""
        number = next(self._ack_ids)
        if self.closed.is_set():
            raise ConnectionError(f"not connected ({self.close_reason})")
        try:
            self._send_text(f"42{number}" + json.dumps([event, data], separators=(",", ":")))
        except OSError as error:
            raise ConnectionError(f"sending failed: {error}") from error
        return number

    def emit(self, event: str, data, timeout: float = 10) -> tuple[float, object]:
        """Emit with an ack and wait for it: (the time the ack arrived, the ack's data). Raises
        ConnectionError if the connection ends first, TimeoutError if no ack comes in time."""
        number = self.send(event, data)
        deadline = time.monotonic() + timeout
        with self.changed:
            while number not in self.acks:
                if self.closed.is_set():
                    raise ConnectionError(f"the connection ended before the ack ({self.close_reason})")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no ack for {event} within {timeout} s")
                self.changed.wait(remaining)
            return self.acks.pop(number)

    def received(self, name: str) -> list[tuple[float, object]]:
        with self.changed:
            return [(arrived, data) for arrived, event, data in self.events if event == name]

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 10) -> tuple[float, object]:
        """The first event `name` whose data satisfies `predicate` (already received or to come)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for arrived, event, data in self.events:
                    if event == name and predicate(data):
                        return arrived, data
                if self.closed.is_set():
                    raise ConnectionError(
                        f"the connection ended while waiting for {name} ({self.close_reason})"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {name} event within {timeout} s")
                self.changed.wait(remaining)

    def close(self) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(Exception):
                self._send_text("41")
                self._send(CloseConnection(code=1000))
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
        if hasattr(self, "reader"):
            self.reader.join(5)
