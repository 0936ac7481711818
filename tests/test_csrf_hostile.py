"""What a stranger's CSRF tokens can make `python app.py` hold. A token whose signature is verified
is kept per process (workshop/csrf.py); a stranger who opened the login page holds a session with a
token, and may then post tokens of anything up to the 64 KiB a body may hold. Those were kept too:
a thousand of them took 64 MiB of every process. These tests post them to the real server."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import serving

MIB = 1024 * 1024
REFUSED = "Formulir sudah kedaluwarsa. Kembali, muat ulang halaman, lalu coba lagi."
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving.served(tmp_path_factory.mktemp("csrf-hostile")) as started:
        yield started


def _visitor(base_url: str) -> tuple[serving.Browser, str]:
    """A browser that opened the login page: its session holds a CSRF token, given back."""
    browser = serving.Browser(base_url)
    page = browser.get("/login").read().decode()
    return browser, TOKEN_FIELD.search(page).group(1)


def _switch_to_english(browser: serving.Browser, token: str) -> tuple[int, str]:
    body = urllib.parse.urlencode({"csrf_token": token, "next": "/login"}).encode()
    request = urllib.request.Request(
        browser.base_url + "/language/en", data=body, headers={"Origin": browser.base_url}
    )
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _language_of(browser: serving.Browser) -> str:
    return re.search(r'<html lang="([a-z]+)"', browser.get("/login").read().decode()).group(1)


def test_a_thousand_huge_forged_tokens_are_refused_and_the_process_keeps_none(server):
    process, base_url = server
    stranger, _ = _visitor(base_url)
    for number in range(200):  # the process's heap at its working size (about 30 MiB more)
        _switch_to_english(stranger, f"warm-{number}.{'x' * 60_000}")
    before = serving.rss_bytes(process.pid)

    answers = {_switch_to_english(stranger, f"{number}.{'x' * 60_000}")[0] for number in range(1100)}

    assert answers == {400}
    assert serving.rss_bytes(process.pid) - before < 16 * MIB  # keeping them took 66 MiB more
    assert _language_of(stranger) == "id"
    neighbour, token = _visitor(base_url)
    assert _switch_to_english(neighbour, token)[0] == 200
    assert _language_of(neighbour) == "en"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
        st.builds(
            lambda head, size: head + "\x00\x1f\x7f" * size, st.text(max_size=20), st.integers(1, 5_000)
        ),
    )
)
def test_any_forged_token_is_refused_in_indonesian_and_leaves_others_served(server, token):
    process, base_url = server
    stranger, _ = _visitor(base_url)

    status, page = _switch_to_english(stranger, token)

    assert (status, REFUSED in page) == (400, True)
    assert _language_of(stranger) == "id"
    assert process.poll() is None
    neighbour, token = _visitor(base_url)
    assert _switch_to_english(neighbour, token)[0] == 200
