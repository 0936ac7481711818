"""A personal link (/p/<token>) is a login: the app's own log keeps no token, plain or JSON.
(gunicorn's and nginx's access logs: tests/test_gunicorn.py and tests/test_nginx_config.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "abcdefghijklmnopqrstuvwxyz234567"

# A request to a personal link fails inside the app: Flask logs "Exception on /p/<token> [POST]"
# with the traceback, whose error message names the link too.
SCRIPT = f"""
from tests.csrf import use_csrf_client
from workshop import create_app
from workshop.registration import links

def broken(session, token):
    raise RuntimeError(f"cannot look up /p/{{token}}")

links.find = broken
app = use_csrf_client(create_app({{"RATELIMIT_ENABLED": False}}))
print(app.test_client().post("/p/{TOKEN}?lang=id").status_code)
"""


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_a_failing_request_to_a_personal_link_is_logged_without_its_token(tmp_path, log_format):
    env = {
        **os.environ,
        "LOG_FORMAT": log_format,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        "SECRET_KEY": "log-test-key",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.stdout == "500\n", result.stderr
    assert "Exception on /p/[redacted] [POST]" in result.stderr
    assert "RuntimeError: cannot look up /p/[redacted]" in result.stderr
    assert TOKEN not in result.stderr
