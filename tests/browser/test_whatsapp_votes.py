"""Voting by WhatsApp reply in Chromium (issue 17): the facilitator switches WhatsApp polls on and
opens a poll on the control page; the online kepala desa gets the question by WhatsApp (the dev
outbox here) and replies "2" through the gateway's webhook while a hall participant votes on the
page; the projector, the control page and the hall phone show both votes, live."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_live import LAPTOP, PHONE, PROJECTOR, _bar, _participant, _seed, _staff
from tests.whatsapp_world import FONNTE_HOOK, fonnte_payload
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.programs.models import OrgKind
from workshop.registration.models import Mode, Person
from workshop.reminders.models import OutboxMessage

pytestmark = pytest.mark.browser

SHOTS = "/tmp/bimtek-shots"


def _whatsapp_to(live_server, phone: str, since: int = 0, timeout: float = 20) -> list[str]:
    """The WhatsApp texts the dev outbox holds for a number (the engine's tick sends within seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        with live_server.session() as session:
            texts = session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.channel == "whatsapp", OutboxMessage.to == phone)
                .order_by(OutboxMessage.id)
            ).all()
        if len(texts) > since or time.monotonic() > deadline:
            return list(texts)
        time.sleep(0.2)


def _reply(live_server, phone: str, text: str, message_id: str) -> int:
    request = urllib.request.Request(
        live_server.url + FONNTE_HOOK,
        data=json.dumps(fonnte_payload(phone, text, message_id)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_hall_vote_on_the_page_and_a_whatsapp_reply_show_together_live(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Polling WhatsApp",
        people={
            "hall": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "village": ("Kades Lumban Siagian", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apa prioritas utama desa Anda?",
            options=["CCTV", "Wi-Fi publik", "Aplikasi layanan"],
        ),
        open_poll=False,
    )
    with live_server.session() as session:
        phone = session.scalar(select(Person.phone).where(Person.name == "Kades Lumban Siagian"))
    cctv, wifi, app = (seeded.options[label] for label in ("CCTV", "Wi-Fi publik", "Aplikasi layanan"))
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    _, hall = _participant(new_context, seeded, "hall", dialogs)

    # The village chooses polls by WhatsApp on its live page, on a 360 px phone, without scrolling sideways.
    _, village = _participant(new_context, seeded, "village", dialogs)
    mine = village.get_by_test_id("whatsapp-me")
    expect(mine.get_by_test_id("whatsapp-me-status")).to_have_text(
        "Nonaktif: polling dijawab di halaman ini saja."
    )
    mine.get_by_label("Kirim polling ke WhatsApp saya").check()
    mine.get_by_role("button", name="Simpan").click()
    expect(village.locator(".flash-success")).to_contain_text("Polling akan dikirim ke WhatsApp Anda.")
    # The organiser has not switched WhatsApp polls on for this stage yet: the page says so.
    expect(village.get_by_test_id("whatsapp-me").get_by_test_id("whatsapp-me-status")).to_have_text(
        f"Aktif: polling akan dikirim ke {phone} setelah panitia mengaktifkan polling lewat WhatsApp untuk tahap ini; "
        "sampai saat itu jawab di halaman ini."
    )
    expect(village.get_by_label("Kirim polling ke WhatsApp saya")).to_be_checked()
    assert village.evaluate("document.documentElement.scrollWidth") <= 360
    village.screenshot(path=f"{SHOTS}/whatsapp-optin-360.png", full_page=True)
    control.reload()

    # WhatsApp polls on for this stage: the section says who will get the question.
    section = control.get_by_test_id("whatsapp-polls")
    expect(section.get_by_test_id("whatsapp-status")).to_have_text(
        "Nonaktif: polling dijawab di halaman peserta saja."
    )
    expect(section.get_by_test_id("whatsapp-optin")).to_have_text(
        "1 peserta memilih menerima polling lewat WhatsApp."
    )
    section.get_by_label(
        "Kirim pertanyaan setiap polling lewat WhatsApp kepada peserta daring tahap ini"
    ).check()
    section.get_by_role("button", name="Simpan").click()
    expect(control.locator(".flash-success")).to_contain_text("Polling lewat WhatsApp aktif.")
    expect(section.get_by_test_id("whatsapp-status")).to_have_text(
        "Aktif: pertanyaan setiap polling dikirim ke 1 peserta daring lewat WhatsApp saat dibuka; "
        "balasan mereka menjadi suara mereka."
    )
    village.reload()
    expect(village.get_by_test_id("whatsapp-me-status")).to_have_text(
        f"Aktif: polling dikirim ke {phone}; balas dengan nomor jawaban Anda. Kirim STOP untuk mematikannya."
    )

    # The poll opens: the question goes to the village by WhatsApp, the hall sees it on the page.
    control.locator(f"[data-poll-row='{seeded.poll_id}'] [data-poll-action=open]").click()
    expect(hall.locator("[data-poll-question]")).to_have_text("Apa prioritas utama desa Anda?")
    [question] = _whatsapp_to(live_server, phone)
    assert question.startswith(
        "*Polling, Tahap I*\nApa prioritas utama desa Anda?\n\n1. CCTV (A)\n2. Wi-Fi publik (B)"
    )

    # At once: the hall votes on the page, the village replies "2" on WhatsApp.
    hall.get_by_role("radio", name="CCTV").check()
    hall.locator("[data-answer-submit]").click()
    assert _reply(live_server, phone, "2", "3EB0C767D26A1D7F3B1A") == 200
    expect(hall.get_by_test_id("my-answer")).to_contain_text("CCTV")

    for page, results in (
        (projector, "[data-projector-results]"),
        (control, "[data-current-results]"),
        (hall, "[data-results]"),
    ):
        for option_id, count in ((cctv, "1"), (wifi, "1"), (app, "0")):
            expect(_bar(page, results, option_id).locator(".live-bar-count")).to_have_text(count)
    split = _bar(projector, "[data-projector-results]", wifi).locator(".live-bar-split")
    expect(split).to_have_attribute("data-daring", "1")
    replies = _whatsapp_to(live_server, phone, since=1)
    assert replies[1:] == [
        'Terima kasih, jawaban Anda untuk "Apa prioritas utama desa Anda?" tercatat: 2. Wi-Fi publik.'
    ]
    # The gateway's retry of the same message changes nothing and gets no second answer.
    assert _reply(live_server, phone, "1", "3EB0C767D26A1D7F3B1A") == 200
    time.sleep(3)  # a tick of the engine (REMINDER_TICK_SECONDS=2)
    assert len(_whatsapp_to(live_server, phone, since=2, timeout=0)) == 2
    expect(_bar(projector, "[data-projector-results]", wifi).locator(".live-bar-count")).to_have_text("1")

    control.reload()
    expect(control.get_by_test_id("whatsapp-sent")).to_have_text(
        "Polling terakhir dikirim ke 1 peserta lewat WhatsApp (1 sudah terkirim)."
    )
    control.set_viewport_size({"width": 1366, "height": 900})
    control.screenshot(path=f"{SHOTS}/whatsapp-control-1366.png", full_page=True)
    control.set_viewport_size(PHONE["viewport"])
    control.screenshot(path=f"{SHOTS}/whatsapp-control-360.png", full_page=True)
    assert dialogs == []
    assert browser_problems.seen == []
