"""Browser-test harness: the real app in a subprocess, driven by Debian's headless Chromium.

The server starts the way production runs on a single machine (`python app.py`: gevent,
Socket.IO, SQLite file), on a schema made by the migrations (`flask db upgrade`). Tests seed
data through the project's own factories and services, in this process, on the same SQLite file
(`live_server.session()`), and read the database back through it to check outcomes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests import whatsapp_world
from workshop import create_app
from workshop.config import PROJECT_ROOT
from workshop.db import db, sqlite_write_intent

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
FLASK = PROJECT_ROOT / ".venv" / "bin" / "flask"
SERVER_START_TIMEOUT = 30.0
ACTION_TIMEOUT_MS = 10_000

# Reports every Content-Security-Policy violation on the console, where the collector below sees it
# (Chromium also logs "Refused to ..." itself; the event makes the check independent of that wording).
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LiveServer:
    url: str
    database_uri: str
    process: subprocess.Popen
    log_path: Path
    app: object  # a Flask app on the same database, for seeding and checking from the test

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    @contextlib.contextmanager
    def session(self) -> Iterator:
        """The project's SQLAlchemy session on the server's database; commits on leaving.

        Its SQLite transactions take the write lock at BEGIN, whatever a test-client GET earlier in
        this thread left in `sqlite_write_intent`: a deferred one would fail at once with "database
        is locked" whenever the running server happens to be writing (the busy timeout is 0)."""
        intent = sqlite_write_intent.set(True)
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()
                sqlite_write_intent.reset(intent)


def _require_setup() -> None:
    missing = [
        path
        for path in (
            PROJECT_ROOT / "static" / "vendor" / "socket.io" / "socket.io.min.js",
            PROJECT_ROOT / "workshop" / "translations" / "id" / "LC_MESSAGES" / "messages.mo",
        )
        if not path.exists()
    ]
    if missing:
        pytest.fail(
            f"missing {', '.join(str(p) for p in missing)}: run scripts/setup.sh first", pytrace=False
        )


@contextlib.contextmanager
def running_server(workdir: Path, database_uri: str, **extra_env: str) -> Iterator[LiveServer]:
    """`python app.py` on a free port over a migrated database, with `extra_env` in its environment
    (e.g. SMTP_HOST for a test that needs a mail server), until the block ends."""
    _require_setup()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_uri,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": "false",
        "PUBLIC_BASE_URL": url,
        "PYTHONUNBUFFERED": "1",
        "REMINDER_TICK_SECONDS": "2",  # the embedded scheduler sends what is due within seconds
        "ASSIGNMENT_FILES_DIR": str(workdir / "assignment-files"),  # not the project's instance folder
        "CERTIFICATE_DIR": str(workdir / "certificates"),
        # The WhatsApp gateways' webhooks (tests/whatsapp_world.py): replies land in the dev outbox.
        "WHATSAPP_WEBHOOK_TOKEN": whatsapp_world.FONNTE_TOKEN,
        "WHATSAPP_META_VERIFY_TOKEN": whatsapp_world.META_VERIFY_TOKEN,
        "WHATSAPP_META_APP_SECRET": whatsapp_world.META_APP_SECRET,
        **extra_env,
    }
    env.pop("BIMTEK_ENV", None)  # production mode would make the cookies Secure: no HTTPS here

    migration = subprocess.run(
        [str(FLASK), "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env={**env, "FLASK_APP": "workshop"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if migration.returncode != 0:
        pytest.fail(f"flask db upgrade failed:\n{migration.stdout}\n{migration.stderr}", pytrace=False)

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_uri, "SECRET_KEY": env["SECRET_KEY"], "RATELIMIT_ENABLED": False}
    )

    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(PYTHON), "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(url=url, database_uri=database_uri, process=process, log_path=log_path, app=app)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not _port_open(port):
        if not server.alive():
            pytest.fail(
                f"the app died on start-up (exit {process.returncode}):\n{server.log()}", pytrace=False
            )
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the app did not listen on {url} within {SERVER_START_TIMEOUT}s:\n{server.log()}")
        time.sleep(0.05)
    try:
        yield server
    finally:
        if server.alive():
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        else:
            print(
                f"\nThe app had died (exit {process.returncode}); its output:\n{server.log()}",
                file=sys.stderr,
            )
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def _server(tmp_path_factory, make_database_url) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live-server")
    with running_server(workdir, make_database_url("browser")) as server:  # SQLite, or PostgreSQL
        yield server


@pytest.fixture
def live_server(_server: LiveServer) -> Iterator[LiveServer]:
    """The running app; a test fails with the server's output if the server died during it."""
    if not _server.alive():
        pytest.fail(f"the app is not running (exit {_server.process.returncode}):\n{_server.log()}")
    yield _server
    if not _server.alive():
        pytest.fail(f"the app died during the test (exit {_server.process.returncode}):\n{_server.log()}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium (apt-get install chromium)",
            pytrace=False,
        )
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield chromium
        chromium.close()


@dataclass
class BrowserProblems:
    """Console errors, uncaught exceptions and CSP violations seen in any page of a test."""

    seen: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(CSP_REPORTER)
        context.on("page", self._watch_page)

    def _watch_page(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                source = message.location.get("url") or page.url
                self.seen.append(f"console error from {source}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught error on {page.url}: {error}"))


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer, browser_problems: BrowserProblems):
    """Make a fresh browser profile (own cookies) on the live server, e.g. one per person."""
    contexts: list[BrowserContext] = []

    def _new_context(**options) -> BrowserContext:
        options.setdefault("locale", "id-ID")
        options.setdefault("timezone_id", "Asia/Jakarta")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        browser_problems.watch(context)
        contexts.append(context)
        return context

    yield _new_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


@pytest.fixture
def phone_page(new_context) -> Page:
    """A small Android phone (360x740 CSS pixels), as most participants have."""
    return new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True).new_page()
