"""A web process loads the libraries that only some requests need (PDF, Word, Excel, pictures,
calendars) with the first such request, not at start-up: each process of a live stage holds
thousands of sockets, and the memory it carries from its start counts against every one of them
(issue 15: at most 100 KiB of RSS per participant). The renderers still work once loaded: the
tests of each export, badge, certificate, laporan and calendar file make them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests import serving

# Libraries (top-level packages) that only some requests or commands use; hypothesis is the tests'.
LOADED_ON_FIRST_USE = (
    "reportlab",
    "docx",
    "lxml",
    "openpyxl",
    "PIL",
    "qrcode",
    "icalendar",
    "alembic",  # with Flask-Migrate and Mako: only the `flask` command (`flask db ...`) loads them
    "flask_migrate",
    "mako",
    "hypothesis",
    "pytest",
)


def test_the_app_starts_without_the_libraries_only_some_requests_need(tmp_path):
    script = (
        "import json, sys\n"
        "from workshop import create_app\n"
        "app = create_app()\n"
        "print(json.dumps([sorted({name.split('.')[0] for name in sys.modules}), sorted(app.blueprints)]))\n"
    )
    env = serving.environment(f"sqlite:///{tmp_path / 'start.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=serving.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    packages, blueprints = json.loads(result.stdout)
    # every feature is there (its views imported), with the stack that serves it
    assert {"laporan", "certificates", "tickets", "reports", "registration", "live"} <= set(blueprints)
    assert {"flask", "flask_socketio", "sqlalchemy", "gevent", "phonenumbers"} <= set(packages)
    assert [name for name in LOADED_ON_FIRST_USE if name in packages] == []
