"""Participants choose polls by WhatsApp: a switch on their live page (opt-in, off by default),
"STOP" by WhatsApp turns it off; a poll's question goes only to those who chose it, and the
organiser's control page says how many did."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests import factories, fakes, test_live
from tests.test_live import NOW, make_poll, participant_client, staff_client
from tests.whatsapp_world import configure, fonnte_sent, post_fonnte, send_queued
from workshop.auth.models import AuditEntry
from workshop.ids import MAX_ID
from workshop.registration.models import Mode, Registration, Status
from workshop.whatsapp import polls as whatsapp_polls

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
    return whatsapp_polls.participant_polls(session, session.get_one(Registration, registration.id))


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
    whatsapp_polls.set_polls_enabled(session, stage, True, NOW)
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
    whatsapp_polls.set_participant_polls(session, daring, True, NOW)
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


# --- Any post to the switch ----------------------------------------------------------------------

SAID = {
    "id": {
        "not_yours": "Itu bukan pendaftaran Anda: tidak ada yang diubah.",
        "not_approved": "Hanya peserta yang sudah disetujui yang dapat menerima polling lewat WhatsApp.",
        True: "Polling akan dikirim ke WhatsApp Anda.",
        False: "Polling tidak lagi dikirim ke WhatsApp Anda.",
        "expired": "Formulir sudah kedaluwarsa. Kembali, muat ulang halaman, lalu coba lagi.",
        404: "Halaman tidak ditemukan",
        413: "Permintaan terlalu besar",
    },
    "en": {
        "not_yours": "That is not your registration: nothing was changed.",
        "not_approved": "Only approved participants can get polls by WhatsApp.",
        True: "Polls will come to your WhatsApp.",
        False: "Polls will no longer come to your WhatsApp.",
        "expired": "The form expired. Go back, reload the page and try again.",
        404: "Page not found",
        413: "The request is too large",
    },
}
# Values of no use anywhere: no digits (so never a stage's id), control characters, huge.
junk = st.text(alphabet=st.characters(exclude_categories=("Nd", "Cs")), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\x1b[2J", "\u202e", "false", "0", "y", "on", "x" * 3000]
)


def test_any_post_to_the_switch_changes_only_the_own_flag_exactly_as_asked(app, session, world):
    daring, luring, stage = world["daring"], world["luring"], world["stage"]
    other = factories.program(session, stages=1)
    pending = factories.registration(session, other, status=Status.PENDING)
    pending.person = daring.person  # their own registration elsewhere, not approved
    whatsapp_polls.set_participant_polls(session, luring, True, NOW)  # someone else's choice: stays on
    session.commit()
    client = participant_client(app, session, daring)
    flags = {daring.id: False, luring.id: True, pending.id: False}
    live = f"/live/{stage.id}"
    # (what is sent as the stage, where the answer leads): the stage only if it is the programme's.
    stage_values = [
        (str(stage.id), live),
        (f" {stage.id}\x00", live),  # cleaned like any text field
        (str(other.stages[0].id), "/"),
        ("\u00b2", "/"),  # a digit to str.isdigit, not to int()
        ("9" * 30, "/"),
        (str(2**63), "/"),
        ("-1", "/"),
        (str(MAX_ID), "/"),
    ]

    def leads_to(target: int, stage_value: tuple[str, str] | None) -> str:
        """Back to the live page of the stage sent, if it is one of the registration's programme."""
        if stage_value is None or target == MAX_ID:  # no stage, or no registration
            return "/"
        if target == pending.id:
            return f"/live/{other.stages[0].id}" if stage_value[0] == str(other.stages[0].id) else "/"
        return stage_value[1]

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        target=st.sampled_from(
            [daring.id] * 4 + [luring.id, pending.id, MAX_ID, "0", "-1", str(2**63), "1e3", "%C2%B2"]
        ),
        enabled=st.lists(junk, max_size=2),
        stage_value=st.sampled_from(stage_values) | st.none() | junk.map(lambda value: (value, "/")),
        extra=st.dictionaries(
            st.sampled_from(["enabled", "wa-me", "stage_id", "registration_id"]), junk, max_size=2
        ),
        csrf=st.sampled_from(["header", "field", "header", "field", "missing", "wrong"]),
        oversized=st.sampled_from([False] * 9 + [True]),
        language=st.sampled_from(["id", "en"]),
    )
    # Stage ids that int() or the database driver refuse (each was a 500):
    @example(daring.id, ["y"], ("\u00b2", "/"), {}, "header", False, "id")
    @example(daring.id, [], ("9" * 30, "/"), {}, "field", False, "en")
    @example(luring.id, ["y"], (str(2**63), "/"), {}, "header", False, "id")
    def check(target, enabled, stage_value, extra, csrf, oversized, language):
        with client.session_transaction() as browser:
            browser["lang"] = language
        pairs = [("wa-me-enabled", value) for value in enabled] + list(extra.items())
        if stage_value is not None:
            pairs.append(("wa-me-stage_id", stage_value[0]))
        if oversized:
            pairs.append(("wa-me-note", "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)))
        headers = {"X-CSRFToken": "palsu"} if csrf == "wrong" else {}
        if csrf == "field":
            pairs.append(("wa-me-csrf_token", client.csrf_token()))
        audited = audit_count(session)

        response = client.post(
            f"/whatsapp/registrations/{target}/polls",
            data=MultiDict(pairs),
            headers=headers,
            send_csrf_token=csrf == "header",
        )

        with client.session_transaction() as browser:
            flashed = browser.pop("_flashes", [])
        said, asked = SAID[language], bool(enabled) and enabled[0] not in ("false", "")  # a checkbox
        page = response.get_data(as_text=True)
        changed = False
        if oversized:  # the body is read first, whatever the address
            assert (response.status_code, flashed) == (413, []) and said[413] in page
        elif not isinstance(target, int):  # no row id: the route does not match
            assert (response.status_code, flashed) == (404, []) and said[404] in page
        elif csrf in ("missing", "wrong"):
            assert (response.status_code, flashed) == (400, []) and said["expired"] in page
        else:
            assert response.status_code == 302
            mine = target in (daring.id, pending.id)
            assert response.location == leads_to(target, stage_value)
            if not mine:
                assert flashed == [("error", said["not_yours"])]
            elif target == pending.id:
                assert flashed == [("error", said["not_approved"])]
            else:
                assert flashed == [("success", said[asked])]
                flags[daring.id], changed = asked, True
        assert {rid: chosen(session, session.get_one(Registration, rid)) for rid in flags} == flags
        assert audit_count(session) == audited + changed

    check()


def audit_count(session) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "whatsapp.participant_polls")
    )
