"""The participant's live page stays light for phones on slow mobile data: the HTML and every
asset it loads, the socket.io client it loads lazily and the modules its script imports included,
come to less than 100 KB gzipped."""

from __future__ import annotations

import gzip
import json
import re
from html import unescape

from tests import factories
from workshop.registration import links, services
from workshop.registration.models import Mode, Status

SECRET = "test-secret-key"
BUDGET = 100 * 1024
# What the page itself names (stylesheets, icon, scripts), in document order.
LINKED_ASSETS = [
    "/static/css/app.css",
    "/static/js/app.js",
    "/static/css/live.css",
    "/static/js/live.js",
]
# What the scripts load in turn: the modules live.js imports and the socket.io client it loads.
LOADED_BY_SCRIPTS = [
    "/static/js/live_client.js",
    "/static/vendor/socket.io/socket.io.min.js",
]
ASSET_REFERENCE = re.compile(r'<(?:link|script)\b[^>]*?\b(?:href|src)="([^"]+)"')
MODULE_IMPORT = re.compile(r'^import\b[^;]*?from\s+"(\./[^"]+)"', re.MULTILINE)


def _participant_page(session, client) -> tuple[str, int]:
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, mode=Mode.DARING, name="Tiurma Lumbantobing")
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    assert client.post(f"/p/{links.token_for(registration, SECRET)}").status_code == 302
    stage_id = program.stages[0].id
    response = client.get(f"/live/{stage_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True), stage_id


def _static(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data()


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def test_the_participant_live_page_loads_exactly_these_assets(session, client):
    html, _ = _participant_page(session, client)
    config = json.loads(unescape(re.search(r"data-config='([^']*)'", html).group(1)))

    references = [path.split("?")[0] for path in ASSET_REFERENCE.findall(html)]
    # The icon is a data: URI inside the HTML (its bytes count with the page's).
    assert [path for path in references if not path.startswith("data:")] == LINKED_ASSETS
    assert config["socket_src"].split("?")[0] == "/static/vendor/socket.io/socket.io.min.js"
    imported = {
        f"/static/js/{name.removeprefix('./')}"
        for path in ("/static/js/live.js", "/static/js/live_client.js")
        for name in MODULE_IMPORT.findall(_static(client, path).decode())
    }
    assert imported == {"/static/js/live_client.js"}


def test_the_participant_live_page_weighs_under_100_kb_gzipped(session, client):
    html, _ = _participant_page(session, client)

    total = _gzipped(html.encode()) + sum(
        _gzipped(_static(client, path)) for path in LINKED_ASSETS + LOADED_BY_SCRIPTS
    )

    assert total < BUDGET, f"{total} bytes gzipped"
