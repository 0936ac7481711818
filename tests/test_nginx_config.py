"""deploy/nginx.conf.template, rendered by deploy/render.py: nginx accepts it (`nginx -t`, also as
a non-root user), and a real nginx on free ports in front of `python app.py` serves pages, static
files from the disk, the size limit, Socket.IO long-polling and a WebSocket upgrade.

nginx is a Debian package (scripts/test.sh installs it as root): without it these tests fail
with the install command, they are not skipped."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from deploy import render
from tests import serving


@pytest.fixture(scope="module")
def nginx() -> str:
    try:
        return render.find_nginx()
    except RuntimeError as error:
        pytest.fail(str(error))


def test_the_committed_example_is_the_rendered_template():
    assert render.EXAMPLE.read_text() == render.render_nginx_config(**render.EXAMPLE_SETTINGS)


def test_rendering_fills_every_placeholder_and_refuses_bad_values():
    config = render.render_nginx_config(
        listen="127.0.0.1:9000",
        upstreams=["127.0.0.1:5001", "127.0.0.1:5002", "unix:/run/bimtek/web3.sock"],
        static_root="/srv/bimtek/static/",
        max_upload_bytes=5 * 1024 * 1024,
        balance="hash $remote_addr consistent",
    )
    assert "{{" not in config
    assert "listen 127.0.0.1:9000;" in config
    assert "hash $remote_addr consistent;" in config
    assert "server unix:/run/bimtek/web3.sock max_fails=1 fail_timeout=10s;" in config
    assert "alias /srv/bimtek/static/;" in config
    assert "client_max_body_size 1024k;" in config  # every other request: --max-request-bytes
    assert "client_max_body_size 6144k;" in config  # uploads: 5 MiB of file and 1 MiB of form around it

    for bad in (
        {"upstreams": []},
        {"upstreams": ["5001; evil"]},
        {"listen": "8080; include /etc/passwd"},
        {"balance": "least_conn"},  # not sticky: long-polling would break
        {"static_root": "static"},
    ):
        with pytest.raises(ValueError):
            render.render_nginx_config(**{"listen": "8080", "upstreams": ["127.0.0.1:5001"], **bad})


def test_nginx_accepts_the_configuration(nginx, tmp_path):
    render.write_nginx_config(tmp_path / "nginx", listen="127.0.0.1:8080", upstreams=["127.0.0.1:5001"])
    result = subprocess.run(render.nginx_command(tmp_path / "nginx", "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="already running as a non-root user: the test above covers it")
def test_nginx_accepts_the_configuration_as_a_non_root_user(nginx):
    prefix = Path(tempfile.mkdtemp(prefix="bimtek-nginx-"))  # pytest's tmp_path is root's only
    try:
        render.write_nginx_config(prefix, listen="127.0.0.1:8080", upstreams=["127.0.0.1:5001"])
        shutil.chown(prefix, "nobody")
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", *render.nginx_command(prefix, "-t")],
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(prefix)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.fixture
def stack(nginx, tmp_path):
    """`python app.py` (PROXY_FIX_HOPS=1) and nginx in front of it, on free ports."""
    database_url = f"sqlite:///{tmp_path / 'bimtek.sqlite3'}"
    serving.prepare_database(database_url)
    program_id = serving.seed_programme(database_url)
    app_port, nginx_port = serving.free_port(), serving.free_port()
    env = serving.environment(
        database_url, HOST="127.0.0.1", PORT=str(app_port), PROXY_FIX_HOPS="1", REMINDER_TICK_SECONDS="1"
    )
    app_log = (tmp_path / "app.log").open("wb")
    app = serving.start(
        [sys.executable, "app.py"],
        cwd=serving.PROJECT_ROOT,
        env=env,
        stdout=app_log,
        stderr=subprocess.STDOUT,
    )
    prefix = tmp_path / "nginx"
    render.write_nginx_config(prefix, listen=f"127.0.0.1:{nginx_port}", upstreams=[f"127.0.0.1:{app_port}"])
    proxy_log = (tmp_path / "nginx-stderr.log").open("wb")
    proxy = serving.start(serving.nginx_foreground(prefix), stdout=proxy_log, stderr=proxy_log)
    try:
        serving.wait_for(f"http://127.0.0.1:{app_port}/healthz", app)
        serving.wait_for(f"http://127.0.0.1:{nginx_port}/healthz", proxy)
        yield f"http://127.0.0.1:{nginx_port}", prefix, program_id
    finally:
        serving.stop(proxy)
        serving.stop(app)
        app_log.close()
        proxy_log.close()


def _open(url: str, **kwargs):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=20)
    except urllib.error.HTTPError as error:
        return error


def test_nginx_in_front_of_the_app(stack):
    base_url, prefix, program_id = stack

    # Pages and /healthz come from the app (its security headers show it).
    status, health = serving.get_json(base_url + "/healthz")
    assert status == 200 and health["status"] == "ok"
    with _open(base_url + "/login", headers={"Accept-Encoding": "gzip"}) as page:
        assert page.status == 200
        assert "Content-Security-Policy" in page.headers
        assert page.headers["Content-Encoding"] == "gzip"
        login_page = gzip.decompress(page.read()).decode()
        assert "csrf_token" in login_page

    # Static files come from the disk: no app headers. The page names them under a hash of their
    # content: a year of immutable caching, and the gzip copy written by the setup step.
    hashed_css = re.search(r'href="(/static/dist/css/app\.[0-9a-f]{12}\.css)"', login_page).group(1)
    source_css = (serving.PROJECT_ROOT / "static" / "css" / "app.css").read_bytes()
    with _open(base_url + hashed_css, headers={"Accept-Encoding": "gzip"}) as css:
        assert css.status == 200
        assert css.headers["Content-Type"] == "text/css"
        assert css.headers["Content-Encoding"] == "gzip"
        assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert css.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in css.headers
        assert gzip.decompress(css.read()) == source_css
    # The same file under its own name (nothing links to it): revalidated on every use.
    with _open(base_url + "/static/css/app.css") as css:
        assert css.headers["Cache-Control"] == "no-cache"
        assert css.read() == source_css
    with _open(base_url + "/static/js/scanner/main.js") as script:
        assert script.headers["Content-Type"] == "application/javascript"  # ES modules need it

    # Bodies: a form over --max-request-bytes is stopped by nginx; a file a little over MAX_UPLOAD_BYTES
    # reaches the app, which answers on its upload page with the limit; far over, nginx stops it.
    form_over = _open(base_url + "/login", data=b"x" * (1024 * 1024 + 1000), method="POST")
    assert form_over.status == 413 and "Content-Security-Policy" not in form_over.headers
    organiser = serving.Browser(base_url)
    organiser.log_in()
    upload = f"{base_url}/admin/programs/{program_id}/import"
    page = organiser.get(f"/admin/programs/{program_id}/import").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = (
        (
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="peserta.csv"\r\n\r\n'
        ).encode()
        + b"x" * (5 * 1024 * 1024 + 1000)
        + b"\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Origin": base_url}
    try:
        over = organiser.opener.open(urllib.request.Request(upload, data=body, headers=headers), timeout=60)
    except urllib.error.HTTPError as error:
        over = error
    assert over.status == 413 and "Content-Security-Policy" in over.headers
    assert "paling besar 5 MB" in over.read().decode()
    far_over = _open(upload, data=b"x" * (7 * 1024 * 1024), method="POST")
    assert far_over.status == 413 and "Content-Security-Policy" not in far_over.headers

    # Socket.IO: long-polling and a WebSocket upgrade through nginx, logged in through nginx
    # (the same-origin check passes: nginx keeps the Host with its port).
    with _open(base_url + "/socket.io/?EIO=4&transport=polling") as polling:
        assert polling.read().startswith(b"0{")
    browser = serving.Browser(base_url)
    browser.log_in()
    opened, answer = serving.socketio_connect(base_url, browser.cookie_header())
    assert opened["upgrades"] == []
    assert answer.startswith("40{") and '"sid"' in answer
    _, refused = serving.socketio_connect(base_url)
    assert refused.startswith("44") and "login_required" in refused

    # nginx's own access log: one JSON object per request, with the upstream that served it.
    access = (prefix / "access.log").read_text().splitlines()
    assert any('"uri":"/healthz"' in line and '"status":200' in line for line in access)
    assert not any('"uri":"/static/' in line for line in access)  # static hits are not logged
    errors = (prefix / "error.log").read_text()
    assert not [
        line
        for line in errors.splitlines()
        if any(f"[{level}]" in line for level in ("alert", "crit", "emerg"))
    ]


def test_a_forged_forwarded_address_does_not_escape_the_login_limit(stack):
    """PROXY_FIX_HOPS=1 behind nginx: the app takes the address nginx appended, not one the client
    wrote into X-Forwarded-For; so changing it does not give a fresh login allowance (10 a minute)."""
    base_url, _, _ = stack
    browser = serving.Browser(base_url)
    page = browser.get("/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": token, "username": "admin", "password": "wrong password"}
    ).encode()
    statuses = []
    for number in range(11):
        request = urllib.request.Request(
            base_url + "/login", data=form, headers={"X-Forwarded-For": f"203.0.113.{number + 1}"}
        )
        try:
            with browser.opener.open(request, timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    assert statuses == [200] * 10 + [429]
