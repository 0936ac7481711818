"""workshop/web.py `fixed_url`: the links every page repeats (static files, the menu, the participant's
own pages), built once per process and script root, are url_for's."""

from __future__ import annotations

import pytest
from flask import url_for

from workshop.web import fixed_url


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("static", {"filename": "css/app.css"}),
        ("auth.logout", {}),
        ("registration.participant_calendar", {"slug": "bimtek-2026"}),
    ],
)
def test_fixed_url_is_url_for_under_each_script_root(app, endpoint, values):
    with app.test_request_context("/"):
        at_root = url_for(endpoint, **values)
        assert fixed_url(endpoint, **values) == at_root
        assert fixed_url(endpoint, **values) == at_root
    with app.test_request_context("/", base_url="http://localhost/bimtek"):
        under_prefix = url_for(endpoint, **values)
        assert fixed_url(endpoint, **values) == under_prefix
    assert under_prefix == "/bimtek" + at_root


def test_fixed_url_gives_the_hashed_name_of_a_static_file(app):
    with app.test_request_context("/"):
        url = fixed_url("static", filename="css/app.css")
    assert url.startswith("/static/dist/css/app.") and url.endswith(".css")


@pytest.mark.parametrize("option", ["_external", "_anchor", "_scheme"])
def test_fixed_url_refuses_options_that_depend_on_more_than_the_route(app, option):
    with app.test_request_context("/"), pytest.raises(ValueError):
        fixed_url("auth.logout", **{option: "x"})


def test_fixed_url_refuses_a_relative_endpoint(app):
    with app.test_request_context("/"), pytest.raises(ValueError):
        fixed_url(".logout")
