"""The text participants receive: Indonesian or English, WIB times, venue or meeting, personal link."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import get_locale
from icalendar import Calendar

from tests import factories
from workshop.registration.models import Mode, Status
from workshop.reminders import messages
from workshop.reminders.channels import TEMPLATE_PARAMETERS_TYPE

LINK = "https://bimtek.tapanuliutarakab.go.id/p/abc123"
PAGE = "https://bimtek.tapanuliutarakab.go.id/saya/bimtek-smart-city"


@pytest.fixture
def program(session):
    program = factories.program(session, stages=2, title="Bimtek Smart City Tapanuli Utara")
    program.stages[0].title = "Penyusunan Masterplan"
    session.flush()
    return program


def _participant(session, program, mode, name="Siti Rahmawati"):
    return factories.registration(session, program, status=Status.APPROVED, mode=mode, name=name)


def _render(registration, stage, locale="id", **kwargs):
    kwargs.setdefault("rule_offset", timedelta(days=1))
    kwargs.setdefault("personal_url", LINK)
    return messages.render(
        kwargs.pop("kind", "reminder"), registration=registration, stage=stage, locale=locale, **kwargs
    )


def test_indonesian_reminder_for_an_in_person_participant_gives_the_hall(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(registration, program.stages[0])

    email = sent["email"]
    assert email.channel == "email"
    assert email.to == registration.person.email
    assert email.subject == "Pengingat: Tahap I: Penyusunan Masterplan, Kamis, 24 Juni 2021, pukul 09.00 WIB"
    assert email.text == (
        "Yth. Bapak/Ibu Siti Rahmawati,\n"
        "\n"
        "Kami mengingatkan bahwa Tahap I: Penyusunan Masterplan dari kegiatan Bimtek Smart City Tapanuli Utara"
        " akan dimulai 1 hari lagi.\n"
        "\n"
        "Waktu: Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB\n"
        "Kehadiran: Luring (tatap muka)\n"
        "Tempat: Aula Martua, Kantor Bupati, Tarutung\n"
        "\n"
        "Tautan pribadi Anda (jadwal, tiket QR, tanya jawab, dan polling):\n"
        f"{LINK}\n"
        "Tautan ini khusus untuk Anda; mohon tidak dibagikan.\n"
        "\n"
        "Salam,\n"
        "Panitia Bimtek Smart City Tapanuli Utara\n"
        "Dinas Kominfo"
    )
    assert "zoom" not in email.text.lower()


def test_indonesian_reminder_for_an_online_participant_gives_link_id_and_passcode(session, program):
    registration = _participant(session, program, Mode.DARING, name="Marulak Simanjuntak")

    sent = _render(registration, program.stages[0], rule_offset=timedelta(hours=1))

    assert sent["email"].text == (
        "Yth. Bapak/Ibu Marulak Simanjuntak,\n"
        "\n"
        "Kami mengingatkan bahwa Tahap I: Penyusunan Masterplan dari kegiatan Bimtek Smart City Tapanuli Utara"
        " akan dimulai 1 jam lagi.\n"
        "\n"
        "Waktu: Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB\n"
        "Kehadiran: Daring\n"
        "Tautan rapat (Zoom): https://zoom.us/j/81200001\n"
        "ID rapat: 812 000 1\n"
        "Kode sandi: pass1\n"
        "\n"
        "Tautan pribadi Anda (jadwal, tiket QR, tanya jawab, dan polling):\n"
        f"{LINK}\n"
        "Tautan ini khusus untuk Anda; mohon tidak dibagikan.\n"
        "\n"
        "Salam,\n"
        "Panitia Bimtek Smart City Tapanuli Utara\n"
        "Dinas Kominfo"
    )
    assert "Aula Martua" not in sent["email"].text


def test_whatsapp_text_marks_the_stage_and_labels_bold_and_goes_to_the_phone(session, program):
    registration = _participant(session, program, Mode.DARING, name="Marulak Simanjuntak")

    whatsapp = _render(registration, program.stages[0], rule_offset=timedelta(days=3))["whatsapp"]

    assert whatsapp.channel == "whatsapp"
    assert whatsapp.to == registration.person.phone
    assert whatsapp.html is None
    assert whatsapp.text == (
        "Yth. Bapak/Ibu Marulak Simanjuntak,\n"
        "\n"
        "Kami mengingatkan bahwa *Tahap I: Penyusunan Masterplan* dari kegiatan Bimtek Smart City Tapanuli Utara"
        " akan dimulai 3 hari lagi.\n"
        "\n"
        "*Waktu:* Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB\n"
        "*Kehadiran:* Daring\n"
        "*Tautan rapat (Zoom):* https://zoom.us/j/81200001\n"
        "*ID rapat:* 812 000 1\n"
        "*Kode sandi:* pass1\n"
        "\n"
        "Tautan pribadi Anda (jadwal, tiket QR, tanya jawab, dan polling):\n"
        f"{LINK}\n"
        "Tautan ini khusus untuk Anda; mohon tidak dibagikan.\n"
        "\n"
        "Salam,\n"
        "Panitia Bimtek Smart City Tapanuli Utara\n"
        "Dinas Kominfo"
    )


def test_whatsapp_message_carries_the_meta_template_parameters(session, program):
    registration = _participant(session, program, Mode.DARING, name="Marulak Simanjuntak")

    whatsapp = _render(registration, program.stages[0], rule_offset=timedelta(minutes=30))["whatsapp"]

    ((filename, mimetype, content),) = whatsapp.attachments
    assert (filename, mimetype) == ("template.json", TEMPLATE_PARAMETERS_TYPE)
    assert json.loads(content) == {
        "parameters": [
            "Marulak Simanjuntak",
            "Tahap I: Penyusunan Masterplan dimulai 30 menit lagi.",
            "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB",
            "Zoom https://zoom.us/j/81200001, ID rapat: 812 000 1, Kode sandi: pass1",
            LINK,
        ]
    }


def test_in_app_notice_has_the_same_text_without_the_personal_link(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(registration, program.stages[0])

    inapp = sent["inapp"]
    assert (inapp.channel, inapp.to) == ("inapp", str(registration.id))
    assert inapp.subject == sent["email"].subject
    assert LINK not in inapp.text
    assert "Tautan pribadi" not in inapp.text
    assert inapp.text == sent["email"].text.replace(
        "\nTautan pribadi Anda (jadwal, tiket QR, tanya jawab, dan polling):\n"
        f"{LINK}\n"
        "Tautan ini khusus untuk Anda; mohon tidak dibagikan.\n",
        "",
    )


def test_english_reminder_for_an_in_person_participant(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(registration, program.stages[0], locale="en")

    assert (
        sent["email"].subject
        == "Reminder: Stage I: Penyusunan Masterplan, Thursday, 24 June 2021 at 09:00 WIB"
    )
    assert sent["email"].text == (
        "Dear Siti Rahmawati,\n"
        "\n"
        "This is a reminder that Stage I: Penyusunan Masterplan of Bimtek Smart City Tapanuli Utara"
        " starts in 1 day.\n"
        "\n"
        "Time: Thursday, 24 June 2021 at 09:00 WIB to Friday, 25 June 2021 at 16:00 WIB\n"
        "Attendance: In person (luring)\n"
        "Venue: Aula Martua, Kantor Bupati, Tarutung\n"
        "\n"
        "Your personal link (schedule, QR ticket, questions and polls):\n"
        f"{LINK}\n"
        "This link is for you only; please do not share it.\n"
        "\n"
        "Regards,\n"
        "The organisers of Bimtek Smart City Tapanuli Utara\n"
        "Dinas Kominfo"
    )


def test_english_reminder_for_an_online_participant(session, program):
    registration = _participant(session, program, Mode.DARING, name="Marulak Simanjuntak")

    sent = _render(registration, program.stages[1], locale="en", rule_offset=timedelta(days=3))

    assert sent["email"].subject == "Reminder: Stage II: Tahap ke-2, Thursday, 15 July 2021 at 09:00 WIB"
    assert sent["email"].text == (
        "Dear Marulak Simanjuntak,\n"
        "\n"
        "This is a reminder that Stage II: Tahap ke-2 of Bimtek Smart City Tapanuli Utara starts in 3 days.\n"
        "\n"
        "Time: Thursday, 15 July 2021 at 09:00 WIB to Friday, 16 July 2021 at 16:00 WIB\n"
        "Attendance: Online (daring)\n"
        "Meeting link (Zoom): https://zoom.us/j/81200002\n"
        "Meeting ID: 812 000 2\n"
        "Passcode: pass2\n"
        "\n"
        "Your personal link (schedule, QR ticket, questions and polls):\n"
        f"{LINK}\n"
        "This link is for you only; please do not share it.\n"
        "\n"
        "Regards,\n"
        "The organisers of Bimtek Smart City Tapanuli Utara\n"
        "Dinas Kominfo"
    )


def test_the_participants_chosen_language_decides_and_defaults_to_indonesian(session, program):
    registration = _participant(session, program, Mode.LURING)
    assert messages.locale_for(registration) == "id"

    registration.person.locale = "en"
    assert messages.locale_for(registration) == "en"
    registration.person.locale = "fr"  # not offered: Indonesian
    assert messages.locale_for(registration) == "id"


def test_rendering_in_english_leaves_the_surrounding_language_alone(app, session, program):
    registration = _participant(session, program, Mode.LURING)
    with app.test_request_context("/"):
        assert str(get_locale()) == "id"
        english = _render(registration, program.stages[0], locale="en")
        indonesian = _render(registration, program.stages[0], locale="id")
        assert str(get_locale()) == "id"
    assert english["email"].text.startswith("Dear Siti Rahmawati,")
    assert indonesian["email"].text.startswith("Yth. Bapak/Ibu Siti Rahmawati,")


def test_times_follow_the_programme_time_zone(session, program):
    program.timezone = "Asia/Makassar"
    stage = program.stages[0]
    stage.starts_at = datetime(2021, 6, 23, 23, 30, tzinfo=UTC)  # 07.30 WITA on the 24th
    stage.ends_at = datetime(2021, 6, 24, 8, 0, tzinfo=UTC)
    registration = _participant(session, program, Mode.LURING)

    email = _render(registration, stage)["email"]

    assert email.subject == "Pengingat: Tahap I: Penyusunan Masterplan, Kamis, 24 Juni 2021, pukul 07.30 WITA"
    assert "Waktu: Kamis, 24 Juni 2021, pukul 07.30 WITA s.d. 16.00 WITA\n" in email.text


def test_email_html_escapes_every_value_and_links_the_personal_link(session, program):
    program.title = "Bimtek <Smart> City & Desa"
    program.stages[0].title = "Rapat <script>alert(1)</script>"
    program.stages[0].meeting_url = "javascript:alert(1)"
    registration = _participant(session, program, Mode.DARING, name='Siti "<b>Rahma</b>" & Co')

    email = _render(registration, program.stages[0], personal_url=f"{LINK}?a=1&b=<2>")["email"]

    html = email.html
    assert "<script>" not in html
    assert "<b>" not in html
    assert "<Smart>" not in html
    assert "<p>Yth. Bapak/Ibu Siti &#34;&lt;b&gt;Rahma&lt;/b&gt;&#34; &amp; Co,</p>" in html
    assert (
        "Tahap I: Rapat &lt;script&gt;alert(1)&lt;/script&gt; dari kegiatan Bimtek &lt;Smart&gt; City &amp; Desa"
        in html
    )
    assert f'<a href="{LINK}?a=1&amp;b=&lt;2&gt;">{LINK}?a=1&amp;b=&lt;2&gt;</a>' in html
    # A meeting "link" that is not http(s) is shown as text, never as a link.
    assert 'href="javascript' not in html
    assert '<td style="padding:4px 0">javascript:alert(1)</td>' in html
    # The text part is plain text: nothing escaped there.
    assert 'Yth. Bapak/Ibu Siti "<b>Rahma</b>" & Co,' in email.text
    assert "<title>Pengingat: Tahap I: Rapat &lt;script&gt;" in html


def test_email_html_has_the_same_facts_as_the_text(session, program):
    registration = _participant(session, program, Mode.DARING)

    html = _render(registration, program.stages[0])["email"].html

    assert html.startswith('<!doctype html>\n<html lang="id">')
    for fact in (
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB",
        '<a href="https://zoom.us/j/81200001">https://zoom.us/j/81200001</a>',
        ">812 000 1<",
        ">pass1<",
        f'<a href="{LINK}">{LINK}</a>',
        "Kode sandi",
    ):
        assert fact in html


def test_email_attaches_the_stage_as_one_ics_event_per_day_in_utc_without_the_personal_link(session, program):
    registration = _participant(session, program, Mode.DARING)
    stage = program.stages[1]  # Thursday 09.00 to Friday 16.00 WIB

    email = _render(registration, stage, page_url=PAGE)["email"]
    ((filename, mimetype, content),) = email.attachments

    assert (filename, mimetype) == ("tahap-II.ics", "text/calendar")
    calendar = Calendar.from_ical(content)
    assert str(calendar["method"]) == "PUBLISH"
    first, second = calendar.walk("VEVENT")
    assert [str(event["summary"]) for event in (first, second)] == [
        "Tahap II: Tahap ke-2 (hari ke-1 dari 2)",
        "Tahap II: Tahap ke-2 (hari ke-2 dari 2)",
    ]
    assert (first["dtstart"].to_ical(), first["dtend"].to_ical()) == (
        b"20210715T020000Z",
        b"20210715T090000Z",
    )
    assert (second["dtstart"].to_ical(), second["dtend"].to_ical()) == (
        b"20210716T020000Z",
        b"20210716T090000Z",
    )
    assert second.decoded("dtend") == stage.ends_at
    assert str(first["uid"]) == f"stage-{stage.id}@bimtek-hybrid"
    assert str(second["uid"]) == f"stage-{stage.id}-day-2@bimtek-hybrid"
    assert str(first["description"]) == (
        "Bimtek Smart City Tapanuli Utara\n"
        "Zoom: https://zoom.us/j/81200002\n"
        "ID rapat: 812 000 2\n"
        "Kode sandi: pass2\n"
        f"Jadwal, tiket, pertanyaan dan polling Anda: {PAGE}"
    )
    assert LINK in email.text  # the message itself carries the personal link ...
    assert b"/p/" not in content  # ... the calendar file never does


def test_english_calendar_file_has_english_words(session, program):
    registration = _participant(session, program, Mode.DARING)

    email = _render(registration, program.stages[0], locale="en", page_url=PAGE)["email"]

    event = Calendar.from_ical(email.attachments[0][2]).walk("VEVENT")[0]
    assert str(event["summary"]) == "Stage I: Penyusunan Masterplan (day 1 of 2)"
    assert "Meeting ID: 812 000 1\nPasscode: pass1\n" in str(event["description"])
    assert f"Your schedule, ticket, questions and polls: {PAGE}" in str(event["description"])


def test_announcement_carries_the_organisers_words(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(
        registration,
        program.stages[0],
        kind="announcement",
        rule_offset=None,
        text="Ruangan pindah ke Aula Sopo Godang.\nMohon hadir 15 menit lebih awal.",
    )

    assert sent["email"].subject == "Pengumuman: Tahap I: Penyusunan Masterplan"
    assert sent["email"].text.startswith(
        "Yth. Bapak/Ibu Siti Rahmawati,\n"
        "\n"
        "Pengumuman dari panitia tentang Tahap I: Penyusunan Masterplan dari kegiatan"
        " Bimtek Smart City Tapanuli Utara:\n"
        "\n"
        "Ruangan pindah ke Aula Sopo Godang.\n"
        "Mohon hadir 15 menit lebih awal.\n"
        "\n"
        "Waktu: Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB\n"
    )
    assert "Ruangan pindah ke Aula Sopo Godang.\nMohon hadir 15 menit lebih awal.</p>" in sent["email"].html
    parameters = json.loads(sent["whatsapp"].attachments[0][2])["parameters"]
    assert parameters[1] == "Ruangan pindah ke Aula Sopo Godang. Mohon hadir 15 menit lebih awal."


def test_change_notice_gives_the_old_and_the_new_time(session, program):
    registration = _participant(session, program, Mode.LURING)
    stage = program.stages[0]

    sent = _render(
        registration,
        stage,
        kind="stage_changed",
        rule_offset=None,
        previous_start=stage.starts_at - timedelta(days=1, hours=1),
    )

    assert sent["email"].subject == "Perubahan jadwal: Tahap I: Penyusunan Masterplan"
    assert sent["email"].text.startswith(
        "Yth. Bapak/Ibu Siti Rahmawati,\n"
        "\n"
        "Jadwal Tahap I: Penyusunan Masterplan dari kegiatan Bimtek Smart City Tapanuli Utara berubah."
        " Mohon perhatikan waktu yang baru di bawah ini.\n"
        "Jadwal semula: Rabu, 23 Juni 2021, pukul 08.00 WIB\n"
        "\n"
        "Waktu: Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB\n"
    )
    parameters = json.loads(sent["whatsapp"].attachments[0][2])["parameters"]
    assert parameters[1] == (
        "Jadwal Tahap I: Penyusunan Masterplan berubah (semula Rabu, 23 Juni 2021, pukul 08.00 WIB)."
    )


def test_reminder_without_an_offset_names_the_start(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(registration, program.stages[0], rule_offset=None)

    assert "Kami mengingatkan jadwal Tahap I: Penyusunan Masterplan dari kegiatan" in sent["email"].text
    parameters = json.loads(sent["whatsapp"].attachments[0][2])["parameters"]
    assert parameters[1] == "Tahap I: Penyusunan Masterplan dimulai Kamis, 24 Juni 2021, pukul 09.00 WIB."


def test_without_a_personal_link_the_link_lines_are_left_out(session, program):
    registration = _participant(session, program, Mode.LURING)

    sent = _render(registration, program.stages[0], personal_url=None)

    assert "Tautan pribadi" not in sent["email"].text
    assert "Tautan pribadi" not in sent["email"].html
    assert "Tautan pribadi" not in sent["whatsapp"].text


@pytest.mark.parametrize(
    ("kind", "extra", "error"),
    [
        ("birthday", {}, "unknown message kind 'birthday'"),
        ("announcement", {}, "an announcement needs its text"),
        ("stage_changed", {}, "a change notice needs the previous start"),
    ],
)
def test_render_refuses_an_incomplete_request(session, program, kind, extra, error):
    registration = _participant(session, program, Mode.LURING)

    with pytest.raises(ValueError, match=error):
        _render(registration, program.stages[0], kind=kind, **extra)


def test_personal_link_uses_the_public_base_url(app, session, program):
    from workshop.registration import links

    registration = _participant(session, program, Mode.LURING)
    token = links.issue(registration, app.config["SECRET_KEY"])

    config = {**app.config, "PUBLIC_BASE_URL": "https://bimtek.tapanuliutarakab.go.id"}
    assert (
        messages.personal_url_for(registration, config) == f"https://bimtek.tapanuliutarakab.go.id/p/{token}"
    )
    # Without it, the app's own address (SERVER_NAME in tests).
    assert messages.personal_url_for(registration, app.config) == f"http://bimtek.test/p/{token}"
    links.revoke(registration)
    assert messages.personal_url_for(registration, config) is None


def test_messages_render_per_channel_from_values_read_up_front(session, program):
    registration = _participant(session, program, Mode.DARING)
    email_address = registration.person.email

    sent = _render(registration, program.stages[0])
    session.commit()  # expires every row ...
    session.expunge_all()  # ... and detaches it: a late read of a row would raise

    assert list(sent) == ["email", "whatsapp", "inapp"]
    assert len(sent) == 3
    assert sent["email"].to == email_address
    assert sent["whatsapp"].text.startswith("Yth. Bapak/Ibu Siti Rahmawati,")
    assert sent["inapp"].text.startswith("Yth. Bapak/Ibu Siti Rahmawati,")
    assert sent["email"] is sent["email"]  # rendered once
    assert sent.get("sms") is None
