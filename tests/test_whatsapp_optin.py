"""Participants choose polls by WhatsApp: a switch on their live page (opt-in, off by default),
"STOP" by WhatsApp turns it off; a poll's question goes only to those who chose it, and the
organiser's control page says how many did."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories, fakes, test_live
from tests.test_live import NOW, make_poll, participant_client, staff_client
from tests.whatsapp_world import configure, fonnte_sent, post_fonnte, send_queued
from workshop.auth.models import AuditEntry
from workshop.registration.models import Mode, Registration, Status
from workshop.whatsapp import services as whatsapp

world = test_live.world
fixed_clock = test_live.fixed_clock

ON = "Aktif: polling dikirim ke {phone}; balas dengan nomor jawaban Anda. Kirim STOP untuk mematikannya."
OFF = "Nonaktif: polling dijawab di halaman ini saja."
LATER = (
    "Aktif: polling akan dikirim ke {phone} setelah panitia mengaktifkan polling lewat WhatsApp untuk tahap ini; "
    "sampai saat itu jawab di halaman ini."
)
IN_THE_HALL = "Aktif untuk tahap yang Anda ikuti secara daring; pada tahap ini jawab di halaman ini."


@pytest.fixture
def gateway(app):
    with fakes.whatsapp_gateway() as server:
        configure(app, server)
        yield server


def chosen(session, registration: Registration) -> bool:
    session.expire_all()
    return whatsapp.participant_polls(session, session.get_one(Registration, registration.id))


def toggle(client, registration: Registration, stage_id: int, on: bool, *, follow: bool = True):
    data = {"wa-me-stage_id": str(stage_id)} | ({"wa-me-enabled": "y"} if on else {})
    return client.post(f"/whatsapp/registrations/{registration.id}/polls", data=data, follow_redirects=follow)


def test_the_switch_on_the_live_page_turns_polls_by_whatsapp_on_and_off(app, session, world):
    daring, stage = world["daring"], world["stage"]
    client = participant_client(app, session, daring)
    page = client.get(f"/live/{stage.id}").get_data(as_text=True)
    assert "Kirim polling ke WhatsApp saya" in page
    assert OFF in page and not chosen(session, daring)  # opt-in: off until they choose

    response = toggle(client, daring, stage.id, True, follow=False)
    assert response.status_code == 302 and response.location == f"/live/{stage.id}"
    page = client.get(f"/live/{stage.id}").get_data(as_text=True)
    assert "Polling akan dikirim ke WhatsApp Anda." in page
    # The stage's WhatsApp polls are not on yet: the page does not promise them.
    assert LATER.format(phone=daring.person.phone) in page
    assert chosen(session, daring) is True
    whatsapp.set_polls_enabled(session, stage, True, NOW)
    session.commit()
    page = client.get(f"/live/{stage.id}").get_data(as_text=True)
    assert ON.format(phone=daring.person.phone) in page

    page = toggle(client, daring, stage.id, False).get_data(as_text=True)
    assert "Polling tidak lagi dikirim ke WhatsApp Anda." in page and OFF in page
    assert chosen(session, daring) is False
    entries = session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "whatsapp.participant_polls")
    ).all()
    assert entries == ["True", "False"]


def test_someone_else_s_registration_no_number_or_not_approved_is_refused_and_nothing_changes(
    app, session, world
):
    daring, luring, stage = world["daring"], world["luring"], world["stage"]
    client = participant_client(app, session, daring)

    # Another participant's registration.
    page = toggle(client, luring, stage.id, True).get_data(as_text=True)
    assert "Itu bukan pendaftaran Anda: tidak ada yang diubah." in page
    assert chosen(session, luring) is False
    assert toggle(client, luring, stage.id, True, follow=False).location == f"/live/{stage.id}"
    # Their own registration in another programme, not approved there.
    other = factories.program(session, stages=1)
    pending = factories.registration(session, other, status=Status.PENDING)
    pending.person = daring.person
    session.commit()
    page = toggle(client, pending, stage.id, True).get_data(as_text=True)
    assert "Hanya peserta yang sudah disetujui yang dapat menerima polling lewat WhatsApp." in page
    assert chosen(session, pending) is False
    # No number: refused, and the page shows no switch.
    daring.person.phone = ""
    session.commit()
    page = toggle(client, daring, stage.id, True).get_data(as_text=True)
    assert "Pendaftaran Anda tidak memiliki nomor WhatsApp, jadi polling tidak dapat dikirim." in page
    assert chosen(session, daring) is False
    assert 'data-testid="whatsapp-me"' not in page
    # A post without the CSRF token changes nothing either.
    daring.person.phone = "+6281299990000"
    session.commit()
    response = client.post(
        f"/whatsapp/registrations/{daring.id}/polls",
        data={"wa-me-enabled": "y", "wa-me-stage_id": str(stage.id)},
        send_csrf_token=False,
        follow_redirects=True,
    )
    assert "Formulir sudah kedaluwarsa." in response.get_data(as_text=True)
    assert chosen(session, daring) is False
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action == "whatsapp.participant_polls")).all()
        == []
    )


def test_a_poll_goes_only_to_the_participants_who_chose_it(app, session, world, gateway):
    stage, daring = world["stage"], world["daring"]
    quiet = factories.registration(session, world["program"], status=Status.APPROVED, mode=Mode.DARING)
    keen = factories.registration(session, world["program"], status=Status.APPROVED, mode=Mode.DARING)
    session.commit()
    for registration in (daring, keen):
        toggle(participant_client(app, session, registration), registration, stage.id, True)
    # A hall participant chooses it too: counted among those who chose, but answers on the page here.
    luring = world["luring"]
    page = toggle(participant_client(app, session, luring), luring, stage.id, True).get_data(as_text=True)
    assert IN_THE_HALL in page
    moderator = staff_client(app, world["moderator"])
    page = moderator.get(f"/live/{stage.id}/control").get_data(as_text=True)
    assert (
        "3 peserta memilih menerima polling lewat WhatsApp. "
        "1 di antaranya hadir di aula pada tahap ini dan menjawab di halaman.</p>"
    ) in page
    moderator.post(f"/whatsapp/stages/{stage.id}/polls", data={"whatsapp-enabled": "y"})
    poll = make_poll(session, stage, world["moderator"])

    assert moderator.post(f"/live/{stage.id}/polls/{poll.id}/open").status_code == 302
    send_queued(session, app, NOW)

    targets = sorted(target for target, _text in fonnte_sent(gateway))
    assert targets == sorted(r.person.phone.removeprefix("+") for r in (daring, keen))
    assert quiet.person.phone.removeprefix("+") not in targets
    page = moderator.get(f"/live/{stage.id}/control").get_data(as_text=True)
    assert "Polling terakhir dikirim ke 2 peserta lewat WhatsApp (2 sudah terkirim)." in page


@pytest.mark.parametrize("word", ["STOP", " berhenti ", "Stop"])
def test_stop_by_whatsapp_turns_it_off_and_is_confirmed(app, session, world, gateway, word):
    daring = world["daring"]
    whatsapp.set_participant_polls(session, daring, True, NOW)
    session.commit()

    assert post_fonnte(app.test_client(), daring.person.phone, word, "STOP-1").status_code == 200
    send_queued(session, app, NOW)

    assert chosen(session, daring) is False
    assert fonnte_sent(gateway) == [
        (
            daring.person.phone.removeprefix("+"),
            "Polling tidak lagi dikirim ke nomor ini. Untuk menerimanya lagi, aktifkan di halaman "
            "tanya jawab & polling Anda.",
        )
    ]
