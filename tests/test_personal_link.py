import hashlib

import pytest
from sqlalchemy import select

from tests import factories
from workshop.auth.models import Role, User
from workshop.registration import links, services
from workshop.registration.models import Status

SECRET = "test-secret-key"


def _approved(session, program=None):
    program = program or factories.program(session, stages=2)
    registration = factories.registration(session, program, name="Rosmawati Sihombing")
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    return registration, links.token_for(registration, SECRET)


def test_token_is_stored_only_as_its_sha256(session):
    registration, token = _approved(session)

    assert len(token) == 32
    assert registration.link_token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = session.execute(select(*registration.__table__.columns)).one()._asdict()
    assert token not in {str(value) for value in stored.values()}


def test_get_and_head_show_who_the_link_is_for_but_do_not_log_in(session, client):
    _, token = _approved(session)

    head = client.head(f"/p/{token}")
    get = client.get(f"/p/{token}")

    assert head.status_code == 200
    assert get.status_code == 200
    assert "Rosmawati Sihombing" in get.get_data(as_text=True)
    assert client.get("/saya").location == "/masuk?next=/saya"


def test_post_logs_in_and_the_session_stays(session, client):
    registration, token = _approved(session)

    response = client.post(f"/p/{token}")

    assert response.status_code == 302
    assert response.location == f"/saya/{registration.program.slug}"
    assert client.get(f"/saya/{registration.program.slug}").status_code == 200
    user = session.scalar(select(User).where(User.person_id == registration.person_id))
    assert user.role == Role.PARTICIPANT


def test_revoked_link_is_refused_and_ends_the_open_session(session, client):
    registration, token = _approved(session)
    client.post(f"/p/{token}")

    services.revoke_link(session, registration, actor=None)
    session.commit()

    assert (
        client.get(f"/saya/{registration.program.slug}").location
        == f"/masuk?next=/saya/{registration.program.slug}"
    )
    refused = client.get(f"/p/{token}")
    assert refused.status_code == 404
    assert client.post(f"/p/{token}").status_code == 404
    assert registration.link_token_hash is None


def test_regenerated_link_replaces_the_old_one(session, client):
    registration, old_token = _approved(session)

    new_token = services.regenerate_link(session, registration, actor=None, secret_key=SECRET)
    session.commit()

    assert new_token != old_token
    assert client.post(f"/p/{old_token}").status_code == 404
    assert client.post(f"/p/{new_token}").status_code == 302


def test_unknown_link_says_so(client):
    response = client.get("/p/thisisnotarealtoken")

    assert response.status_code == 404
    assert "tidak dikenal atau sudah dicabut" in response.get_data(as_text=True)


def test_link_of_a_cancelled_registration_cannot_log_in(session, client):
    registration, token = _approved(session)
    services.change_status(session, registration, Status.CANCELLED, actor=None, secret_key=SECRET)
    session.commit()

    assert client.post(f"/p/{token}").status_code == 403
    assert client.get("/saya").location == "/masuk?next=/saya"


def test_a_participant_sees_only_their_own_programme_page(session, client):
    program = factories.program(session, stages=1)
    mine, token = _approved(session, program)
    other_program = factories.program(session, stages=1)
    factories.registration(session, other_program, status=Status.APPROVED)
    session.commit()
    client.post(f"/p/{token}")

    assert client.get(f"/saya/{program.slug}").status_code == 200
    assert client.get(f"/saya/{other_program.slug}").status_code == 404
    assert client.get(f"/admin/registrations/{mine.id}").status_code == 403


def test_a_page_asked_for_without_a_session_opens_after_entering_through_the_link(session, client):
    registration, token = _approved(session)
    live_page = f"/live/{registration.program.stages[0].id}"

    sent_to = client.get(live_page).location
    note = client.get(sent_to).get_data(as_text=True)
    confirm_page = client.get(f"/p/{token}").get_data(as_text=True)
    entered = client.post(f"/p/{token}", data={"next": live_page})

    assert sent_to == f"/masuk?next={live_page}"
    assert "Setelah membuka tautan, Anda kembali ke halaman yang Anda minta." in note
    assert f'name="next" type="hidden" value="{live_page}"' in confirm_page
    assert entered.location == live_page
    assert client.get(live_page).status_code == 200


def test_the_remembered_page_is_used_once_even_when_the_form_lost_it(session, client):
    registration, token = _approved(session)
    live_page = f"/live/{registration.program.stages[0].id}"
    client.get(f"/masuk?next={live_page}")

    first = client.post(f"/p/{token}")  # e.g. a confirm page opened in another tab before /masuk
    client.post("/logout")
    second = client.post(f"/p/{token}")

    assert first.location == live_page
    assert second.location == f"/saya/{registration.program.slug}"


@pytest.mark.parametrize(
    "target", ["//evil.example/live/1", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example"]
)
def test_the_link_flow_never_leads_to_another_site(session, client, target):
    registration, token = _approved(session)
    home = f"/saya/{registration.program.slug}"

    client.get("/masuk", query_string={"next": target})
    remembered = client.post(f"/p/{token}")
    client.post("/logout")
    in_the_link = client.get(f"/p/{token}", query_string={"next": target}).get_data(as_text=True)
    posted = client.post(f"/p/{token}", data={"next": target})

    assert remembered.location == home
    assert 'name="next" type="hidden" value=""' in in_the_link
    assert posted.location == home


def test_a_post_without_a_session_is_not_remembered_as_the_page_to_return_to(session, client):
    registration, _ = _approved(session)

    response = client.post(f"/live/{registration.program.stages[0].id}/questions", data={"text": "Halo?"})

    assert response.location == "/masuk"
