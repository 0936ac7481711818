"""One safe-redirect check (workshop/redirects.py) for every `next` the app follows."""

import pytest

from tests import factories
from workshop.auth.models import Role
from workshop.redirects import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/live/3",
        "/admin/programs/1/registrations?status=pending&page=2",
        "/saya/bimtek-smart-city",
        "/admin/programs/1/registrations?q=Dinas%20Kominfo",
        "/admin/programs/1/registrations?q=Dinas+Kominfo#row-5",
        "/",
    ],
)
def test_paths_on_this_site_are_followed_as_they_are(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "",
        None,
        42,
        ["/live/3"],
        "https://evil.example/",
        "https://evil.example/?x=/admin/programs/1/registrations",
        "http://127.0.0.1:5000/admin/",
        "//evil.example",
        "//evil.example/admin/",
        "///evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "/admin\\..\\..\\evil",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/%2f%2fevil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/%252F%252Fevil.example",
        "/%25252F%25252Fevil.example",
        "/%2525252F%2525252Fevil.example",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "/javascript:alert(1)//%0a",
        "data:text/html,<script>alert(1)</script>",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "\x00/admin",
        "/admin\x7f",
        "admin/programs",
        "evil.example",
        " /admin",
        "/" + "a" * 3000,
    ],
)
def test_other_origins_and_disguised_ones_are_refused(target):
    assert safe_next(target) is None


def test_login_follows_a_local_next_and_refuses_another_origin(session, client):
    user = factories.staff(session, Role.PANITIA)
    session.commit()
    form = {"username": user.username, "password": factories.PASSWORD}

    local = client.post("/login?next=/admin/programs/1/registrations%3Fpage%3D2", data=form)
    client.post("/logout")
    foreign = client.post("/login?next=/%5Cevil.example", data=form)

    assert local.location == "/admin/programs/1/registrations?page=2"
    assert foreign.location == "/"


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [("/masuk?x=1", "/masuk?x=1"), ("//evil.example", "/"), ("https://evil.example/", "/")],
)
def test_language_switch_returns_only_to_this_site(client, next_value, expected):
    response = client.post("/language/en", data={"next": next_value})

    assert response.location == expected


def test_status_change_returns_to_the_given_list_not_to_the_referer(session, client, login):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program)
    session.commit()
    url = f"/admin/programs/{program.id}/registrations/status"
    review = f"/admin/programs/{program.id}/registrations"
    evil = f"https://evil.example/?x={review}"

    followed = client.post(
        url, data={"action": "reject", "ids": [registration.id], "next": f"{review}?status=pending"}
    )
    referer_ignored = client.post(
        url, data={"action": "cancel", "ids": [registration.id]}, headers={"Referer": evil}
    )
    refused = client.post(url, data={"action": "reject", "ids": [registration.id], "next": evil})

    assert followed.location == f"{review}?status=pending"
    assert referer_ignored.location == review
    assert refused.location == review
