"""Reaching participants from the registration pages, in Chromium (issue 11): "Kirim tautan" through
the reminder engine (dev outbox; a real SMTP server and the WhatsApp gateway stand-in), the
confirmation before actions that cannot simply be undone, and approval as online into a full hall.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories, fakes
from tests.browser.conftest import ACTION_TIMEOUT_MS, running_server
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.programs.models import AgendaItem, Stage
from workshop.registration import links
from workshop.registration.models import Mode, Registration, Status
from workshop.reminders.models import Delivery, DeliveryStatus, Kind, OutboxMessage

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
SENT_WITHIN = 30.0  # seconds: the embedded scheduler ticks every 2 s and is woken by the send
IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass
class Seeded:
    program_id: int
    stage_id: int
    organiser: str
    ids: dict[str, int]  # name -> registration id
    tokens: dict[str, str]  # name -> personal link token (approved ones)


def _seed(server, *, capacity: int | None = 40, people: dict[str, tuple[Status, Mode]]) -> Seeded:
    """A programme whose Tahap I starts in a week, a panitia, and the given registrations."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    with server.session() as session:
        program = factories.program(session, stages=1, capacity=capacity, title="Bimtek Smart City Taput")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = start, start + timedelta(hours=8)
        ids, tokens = {}, {}
        for name, (status, mode) in people.items():
            registration = factories.registration(session, program, status=status, mode=mode, name=name)
            if status == Status.APPROVED:
                tokens[name] = links.issue(registration, server.app.config["SECRET_KEY"])
            session.flush()
            ids[name] = registration.id
        organiser = factories.staff(session, Role.PANITIA)
        return Seeded(program.id, stage.id, organiser.username, ids, tokens)


def _wait_until_sent(server, registration_id: int, count: int) -> list[Delivery]:
    deadline = time.monotonic() + SENT_WITHIN
    while True:
        with server.session() as session:
            deliveries = session.scalars(
                select(Delivery).where(Delivery.registration_id == registration_id).order_by(Delivery.channel)
            ).all()
            if len(deliveries) == count and all(d.status not in IN_FLIGHT for d in deliveries):
                session.expunge_all()
                return deliveries
        if time.monotonic() > deadline:
            pytest.fail(f"not sent within {SENT_WITHIN} s: {[(d.channel, d.status) for d in deliveries]}")
        time.sleep(0.2)


def _organiser_page(new_context, seeded: Seeded, **viewport) -> Page:
    page = new_context(viewport=viewport or LAPTOP).new_page()
    log_in(page, seeded.organiser)
    return page


def test_kirim_tautan_puts_one_message_in_the_dev_outbox_and_one_row_in_the_delivery_log(
    live_server, new_context, browser_problems
):
    name = "Rosmawati Sihombing"
    seeded = _seed(live_server, people={name: (Status.APPROVED, Mode.DARING)})
    registration_id = seeded.ids[name]
    with live_server.session() as session:
        phone = session.get(Registration, registration_id).person.phone
    link = f"{live_server.url}/p/{seeded.tokens[name]}"
    page = _organiser_page(new_context, seeded)

    page.goto(f"/admin/registrations/{registration_id}")
    form = page.get_by_test_id("send-link-form")
    expect(form.get_by_role("checkbox", name="WhatsApp")).to_be_checked()
    form.get_by_role("checkbox", name="Email").uncheck()
    page.get_by_test_id("send-link").click()
    expect(page.locator("p.flash-success")).to_have_text(
        f"Tautan pribadi {name} sedang dikirim melalui WhatsApp."
    )
    (delivery,) = _wait_until_sent(live_server, registration_id, 1)

    assert (delivery.kind, delivery.channel, delivery.status) == (
        Kind.PERSONAL_LINK,
        "whatsapp",
        DeliveryStatus.SENT,
    )
    with live_server.session() as session:
        outbox = session.scalars(select(OutboxMessage).where(OutboxMessage.to == phone)).all()
        assert [(m.channel, m.subject) for m in outbox] == [
            ("whatsapp", "Tautan pribadi Anda: Bimtek Smart City Taput")
        ]
        assert link in outbox[0].text
        outbox_id = outbox[0].id

    # The organiser reads it in the dev outbox ...
    page.goto(f"/admin/reminders/outbox/{outbox_id}")
    expect(page.get_by_test_id("outbox-text")).to_contain_text(link)
    # ... and finds it in the stage's delivery log and on the person's page.
    page.goto(f"/admin/stages/{seeded.stage_id}/reminders")
    row = f"message:{delivery.participant_message_id}"
    expect(page.locator(f'tr[data-row="{row}"] td').first).to_contain_text("Tautan pribadi")
    expect(page.get_by_test_id(f"count-{row}-sent")).to_have_text("1")
    expect(page.get_by_test_id(f"count-{row}-failed")).to_have_text("0")
    page.goto(f"/admin/registrations/{registration_id}")
    history = page.get_by_test_id("message-history").locator("tbody tr")
    expect(history).to_have_count(1)
    expect(history.locator("td").nth(3)).to_have_text("Terkirim")
    page.set_viewport_size(PHONE)  # the page's own content fits a phone (the shared header is not ours)
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 360
    assert browser_problems.seen == []


@pytest.fixture(scope="module")
def mail_and_gateway_server(tmp_path_factory, make_database_url):
    """The app with a real SMTP server and the WhatsApp gateway stand-in configured."""
    with (
        fakes.smtp_server() as smtp,
        fakes.whatsapp_gateway() as gateway,
        running_server(
            tmp_path_factory.mktemp("mail-server"),
            make_database_url("mail"),
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            SMTP_USE_TLS="false",
            MAIL_FROM="Panitia Bimtek <bimtek@tapanuliutarakab.go.id>",
            WHATSAPP_PROVIDER="fonnte",
            WHATSAPP_API_URL=f"{gateway.url}/send",
            WHATSAPP_TOKEN="token-rahasia",
        ) as server,
    ):
        yield server, smtp, gateway


def test_kirim_tautan_reaches_a_real_smtp_server_and_the_whatsapp_gateway(
    mail_and_gateway_server, browser, browser_problems
):
    server, smtp, gateway = mail_and_gateway_server
    gateway.replies.append((200, json.dumps({"status": True, "id": ["80367170"]}).encode(), 0))
    name = "Nelson Pardede"
    seeded = _seed(server, people={name: (Status.APPROVED, Mode.LURING)})
    registration_id = seeded.ids[name]
    with server.session() as session:
        person = session.get(Registration, registration_id).person
        email, phone = person.email, person.phone
    link = f"{server.url}/p/{seeded.tokens[name]}"
    context = browser.new_context(base_url=server.url, viewport=LAPTOP, locale="id-ID")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    browser_problems.watch(context)
    page = context.new_page()
    log_in(page, seeded.organiser)

    page.goto(f"/admin/registrations/{registration_id}")
    page.get_by_test_id("send-link").click()  # WhatsApp and email, as the programme's default
    expect(page.locator("p.flash-success")).to_have_text(
        f"Tautan pribadi {name} sedang dikirim melalui WhatsApp dan Email."
    )
    deliveries = _wait_until_sent(server, registration_id, 2)
    context.close()

    assert [(d.channel, d.status) for d in deliveries] == [
        ("email", DeliveryStatus.SENT),
        ("whatsapp", DeliveryStatus.SENT),
    ]
    ((sender, recipients, raw),) = smtp.received
    mail = message_from_bytes(raw, policy=email_policy.default)
    assert (sender, recipients, mail["Subject"]) == (
        "bimtek@tapanuliutarakab.go.id",
        [email],
        "Tautan pribadi Anda: Bimtek Smart City Taput",
    )
    assert link in mail.get_body(("plain",)).get_content()
    assert f'<a href="{link}">' in mail.get_body(("html",)).get_content()
    (request,) = gateway.requests
    form = urllib.parse.parse_qs(request["body"].decode())
    assert (form["target"], request["headers"]["Authorization"]) == ([phone.lstrip("+")], "token-rahasia")
    assert link in form["message"][0]
    assert deliveries[1].provider_ref == "80367170"
    with server.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert browser_problems.seen == []


def _dialog(page: Page):
    return page.get_by_test_id("confirm-dialog")


def _status(server, registration_id: int) -> Status:
    with server.session() as session:
        return session.get(Registration, registration_id).status


def test_reject_cancel_revoke_bulk_reject_and_agenda_removal_ask_first(
    live_server, new_context, browser_problems
):
    seeded = _seed(
        live_server,
        people={
            "Pendaftar Baru": (Status.PENDING, Mode.LURING),
            "Peserta Disetujui": (Status.APPROVED, Mode.DARING),
            "Pendaftar Dua": (Status.PENDING, Mode.DARING),
            "Pendaftar Tiga": (Status.PENDING, Mode.DARING),
        },
    )
    with live_server.session() as session:
        stage = session.get(Stage, seeded.stage_id)
        item = AgendaItem(stage=stage, starts_at=stage.starts_at, title="Pembukaan oleh Bupati")
        session.add(item)
        session.flush()
        item_id = item.id
    page = _organiser_page(new_context, seeded)
    pending, approved = seeded.ids["Pendaftar Baru"], seeded.ids["Peserta Disetujui"]

    # Reject: the dialog says what follows; "Kembali" changes nothing, "Tolak" rejects.
    page.goto(f"/admin/registrations/{pending}")
    page.get_by_test_id("reject").click()
    expect(_dialog(page)).to_be_visible()
    expect(_dialog(page).locator("p")).to_have_text(
        "Tolak pendaftaran Pendaftar Baru? Yang bersangkutan tidak mendapat tempat dan tidak mendapat tautan pribadi."
    )
    expect(_dialog(page).get_by_role("button", name="Kembali")).to_be_focused()
    _dialog(page).get_by_role("button", name="Kembali").click()
    expect(_dialog(page)).to_have_count(0)
    assert _status(live_server, pending) == Status.PENDING
    page.get_by_test_id("reject").click()
    page.keyboard.press("Escape")  # Escape goes back too
    expect(_dialog(page)).to_have_count(0)
    assert _status(live_server, pending) == Status.PENDING
    page.get_by_test_id("reject").click()
    _dialog(page).get_by_role("button", name="Tolak").click()
    expect(page.get_by_test_id("status")).to_have_text("Ditolak")
    assert _status(live_server, pending) == Status.REJECTED

    # Revoke the link, then cancel the approved registration.
    page.goto(f"/admin/registrations/{approved}")
    page.get_by_test_id("revoke-link").click()
    expect(_dialog(page).locator("p")).to_contain_text("Cabut tautan pribadi Peserta Disetujui?")
    _dialog(page).get_by_role("button", name="Cabut tautan").click()
    expect(page.locator("p.flash-success")).to_have_text("Tautan pribadi telah dicabut.")
    with live_server.session() as session:
        assert session.get(Registration, approved).link_token_hash is None
    page.get_by_test_id("cancel").click()
    expect(_dialog(page).locator("p")).to_contain_text("Tautan pribadinya langsung tidak berlaku")
    _dialog(page).get_by_role("button", name="Batalkan pendaftaran").click()
    expect(page.get_by_test_id("status")).to_have_text("Dibatalkan")

    # Bulk reject of the ticked rows: the dialog counts them.
    page.goto(f"/admin/programs/{seeded.program_id}/registrations")
    for name in ("Pendaftar Dua", "Pendaftar Tiga"):
        page.get_by_role("checkbox", name=name).check()
    page.get_by_test_id("bulk-reject").click()
    expect(_dialog(page).locator("p")).to_have_text(
        "Tolak 2 pendaftaran yang dipilih? Mereka tidak mendapat tempat dan tidak mendapat tautan pribadi."
    )
    _dialog(page).get_by_role("button", name="Tolak").click()
    expect(page.locator("p.flash-success")).to_have_text("2 pendaftaran kini berstatus ditolak.")
    assert [_status(live_server, seeded.ids[n]) for n in ("Pendaftar Dua", "Pendaftar Tiga")] == [
        Status.REJECTED,
        Status.REJECTED,
    ]

    # Removing an agenda item.
    page.goto(f"/admin/programs/{seeded.program_id}")
    page.get_by_test_id(f"remove-agenda-{item_id}").click()
    expect(_dialog(page).locator("p")).to_have_text(
        'Hapus "Pembukaan oleh Bupati" dari agenda Tahap I? Peserta tidak akan melihatnya lagi.'
    )
    _dialog(page).get_by_role("button", name="Hapus").click()
    expect(page.get_by_test_id(f"remove-agenda-{item_id}")).to_have_count(0)
    with live_server.session() as session:
        assert session.get(AgendaItem, item_id) is None
    assert browser_problems.seen == []


def test_approving_in_person_into_a_full_hall_offers_approval_as_online(
    live_server, new_context, browser_problems
):
    seeded = _seed(
        live_server,
        capacity=1,
        people={
            "Sudah Di Aula": (Status.APPROVED, Mode.LURING),
            "Budi Sitompul": (Status.PENDING, Mode.LURING),
        },
    )
    waiting = seeded.ids["Budi Sitompul"]
    page = _organiser_page(new_context, seeded)

    page.goto(f"/admin/programs/{seeded.program_id}/registrations")
    page.get_by_test_id(f"approve-{waiting}").click()

    expect(page).to_have_url(f"{live_server.url}/admin/registrations/{waiting}")
    expect(page.locator("p.flash-success")).to_have_count(0)
    expect(page.get_by_test_id("hall-full")).to_contain_text(
        "Tidak ada lagi tempat luring di Tahap I: aula sudah penuh."
    )
    assert _status(live_server, waiting) == Status.PENDING
    page.get_by_test_id("approve-online").click()
    expect(page.get_by_test_id("status")).to_have_text("Disetujui")
    expect(page.get_by_test_id("mode-I")).to_have_text("Daring")
    expect(page.locator("p.flash-success")).to_have_text("1 pendaftaran kini berstatus disetujui.")
    with live_server.session() as session:
        registration = session.get(Registration, waiting)
        assert (registration.status, registration.stage_modes[0].mode) == (Status.APPROVED, Mode.DARING)
    assert browser_problems.seen == []
