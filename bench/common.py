"""Pieces shared by the benchmarks in bench/: the server environment, a fresh database, starting
a server and waiting for it, a keep-alive HTTP client with cookies, percentiles, and the CPU and
memory of the server process from /proc.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from functools import cache
from http.cookies import SimpleCookie
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable
SECRET_KEY = "bench-secret-key-" + "x" * 32
CSRF_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


# Database and servers


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(_normalised(re.split(r"[\[=<>~!; ]", line)[0]))
    return names


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def dev_only_modules() -> list[str]:
    """The top-level modules installed only by requirements-dev.txt (bench/as_installed.py)."""
    dev_only = _requirement_names(ROOT / "requirements-dev.txt") - _requirement_names(
        ROOT / "requirements.txt"
    )
    return sorted(
        module
        for module, distributions in packages_distributions().items()
        if all(_normalised(distribution) in dev_only for distribution in distributions)
    )


def as_installed(argv: list[str]) -> list[str]:
    """The command that runs `python <argv>` without the modules production does not install."""
    return [PYTHON, str(BENCH / "as_installed.py"), *argv]


def environment(database_url: str, port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of the production single-machine mode, on the given database."""
    env = dict(os.environ)
    env.update(
        FLASK_APP="workshop",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        RATELIMIT_ENABLED="false",
        BIMTEK_ENV="production",
        PYTHONUNBUFFERED="1",
        BENCH_ABSENT_MODULES=",".join(dev_only_modules()),
    )
    env.setdefault("PUBLIC_BASE_URL", "https://bimtek.example.org")  # production refuses to start without it
    if port is not None:
        env.update(HOST="127.0.0.1", PORT=str(port))
    env.update(extra)
    return env


def make_database(database_url: str) -> None:
    """Create the schema with `flask db upgrade`, as an installation does."""
    flask = str(Path(PYTHON).with_name("flask"))
    subprocess.run(
        [flask, "db", "upgrade"], cwd=ROOT, env=environment(database_url), check=True, capture_output=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    argv: list[str], database_url: str, log_path: Path, probe: str, **extra_env: str
) -> tuple[subprocess.Popen, int]:
    """Start `python <argv>` as production installs it (bench/as_installed.py) on a free port and
    wait until GET `probe` answers 200."""
    port = free_port()
    log = log_path.open("w")
    script = " ".join(argv)
    process = subprocess.Popen(
        as_installed(argv),
        cwd=ROOT,
        env=environment(database_url, port, **extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"{script} exited with {process.returncode}; see {log_path}:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"{script} did not answer on port {port} within 30 s; see {log_path}")


def process_memory(pid: int) -> dict:
    """Resident and peak resident memory of a process in MiB, from /proc/<pid>/status."""
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            memory[key] = int(value.split()[0]) / 1024  # MiB
    return {"rss": memory.get("VmRSS", 0.0), "hwm": memory.get("VmHWM", 0.0)}


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_queue_wait(pid: int) -> float:
    """Seconds the process's main thread has waited for a CPU while runnable (/proc/<pid>/schedstat).
    Large values mean the machine was busy with other work: the numbers measured are then slower."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


# Statistics


def percentile(sorted_values: list[float], p: float) -> float:
    """The nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(math.ceil(p / 100 * len(sorted_values)) - 1, 0)
    return sorted_values[rank]


def median(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


# HTTP client


class SetupError(RuntimeError):
    pass


class _Connection(http.client.HTTPConnection):
    """An HTTP connection that writes a request's headers and a small body in one send(), as
    browsers do for small requests (Chromium merges them when together at most 1,400 bytes).
    http.client sends them separately, and a server may then read the headers before the body
    has arrived (see docs/benchmarks.md, check-in finding 1)."""

    MERGE_LIMIT = 1400

    def _send_output(self, message_body=None, encode_chunked=False):
        if isinstance(message_body, bytes) and len(message_body) <= self.MERGE_LIMIT and not encode_chunked:
            self._buffer.extend((b"", b""))
            message = b"\r\n".join(self._buffer) + message_body
            del self._buffer[:]
            self.send(message)
            return
        super()._send_output(message_body, encode_chunked)


class Client:
    """One virtual user: a keep-alive connection and a cookie jar.

    `send` and `receive` are separate so that a caller can put requests on several connections
    before it reads any answer (two requests that reach the server at the same moment).
    """

    def __init__(self, host: str, port: int, cookies: dict[str, str] | None = None):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = dict(cookies or {})
        self.connection = _Connection(host, port, timeout=60)

    def _reconnect(self) -> None:
        self.connection.close()
        self.connection = _Connection(self.host, self.port, timeout=60)

    def send(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict | None = None
    ) -> None:
        headers = dict(headers if headers is not None else FORM_HEADERS if body is not None else {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
        except (OSError, http.client.HTTPException):
            self._reconnect()
            raise

    def receive(self) -> tuple[int, bytes]:
        try:
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._reconnect()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.connection.close()
        return response.status, data

    def request(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        self.send(method, path, body, headers)
        return self.receive()

    def csrf_token(self, path: str) -> str:
        status, body = self.request("GET", path)
        match = CSRF_RE.search(body.decode())
        if status != 200 or match is None:
            raise SetupError(f"GET {path}: {status}, no CSRF token")
        return match.group(1)


def seed_programme(session, *, slug: str, title: str, capacity: int, **stage_details):
    """The default regency's kecamatan and villages, 25 test agencies and a four-stage programme whose
    Tahap I began an hour ago (WIB), three weeks apart. -> (programme, agencies). The caller commits."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from workshop.programs.models import Organization, OrgKind, Program, Stage
    from workshop.programs.services import import_regions

    import_regions(session)
    agencies = [Organization(kind=OrgKind.OPD, name=f"Dinas Uji {n:02d}") for n in range(1, 26)]
    session.add_all(agencies)
    session.flush()
    program = Program(slug=slug, title=title)
    first_start = datetime.now(ZoneInfo("Asia/Jakarta")).replace(second=0, microsecond=0) - timedelta(hours=1)
    for position in range(1, 5):
        starts = first_start + timedelta(days=21 * (position - 1))
        session.add(
            Stage(
                program=program,
                position=position,
                title=f"Tahap {position}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=8),
                venue_name="Aula Martua",
                capacity=capacity,
                **stage_details,
            )
        )
    session.add(program)
    session.flush()
    return program, agencies


# Verdicts


def verdict(ok: bool, target: str, result: str) -> str:
    """One line per target, the same in every benchmark: "PASS <target>: <result>" or FAIL."""
    return f"{'PASS' if ok else 'FAIL'} {target}: {result}"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
