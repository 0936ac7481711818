"""What a participant receives: reminders, announcements and change notices, per channel.

Indonesian by default, English for a participant who chose it. Times in the programme's time
zone, Indonesian style ("Kamis, 24 Juni 2021, pukul 09.00 WIB"). The email carries the stage's
.ics; the WhatsApp message carries the parameters of the Meta template as well (see channels).
Templates: templates/reminders/messages/<kind>.txt (email text, in-app, and WhatsApp with *bold*)
and <kind>.html (email), each extending _layout.txt / _layout.html.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from workshop import i18n, web
from workshop.programs.models import Stage
from workshop.registration import calendar, links
from workshop.registration.models import Mode, Registration
from workshop.reminders.channels import FREE_TEXT_TYPE, TEMPLATE_PARAMETERS_TYPE, OutgoingMessage

# Messages to chosen participants share one template: the organiser's text, the next stage, the link.
PARTICIPANT_MESSAGE_KINDS = (
    "personal_link",
    "approved",
    "waitlisted",
    "promoted",
    "certificate",
    "question_carried",
    "assignment",
)
# WhatsApp chat (workshop/whatsapp): a poll's question, the answer to a reply; just the text.
CHAT_KINDS = ("poll_question", "whatsapp_reply")
KINDS = ("reminder", "evaluation", "announcement", "stage_changed", *PARTICIPANT_MESSAGE_KINDS, *CHAT_KINDS)
TEMPLATES = "reminders/messages"


def locale_for(registration: Registration) -> str:
    """The participant's language: Person.locale where it is set, Indonesian otherwise."""
    chosen = getattr(registration.person, "locale", None)
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def message_kind(kind: str, rule) -> str:
    """The message a delivery carries: a reminder rule at the stage's end invites to the evaluation."""
    return "evaluation" if kind == "reminder" and rule is not None and rule.at_end else kind


def personal_url_for(registration: Registration, config: Mapping, *, base_url: str = "") -> str | None:
    """PUBLIC_BASE_URL (or `base_url`: the host of the request that queued the message) +
    /p/<token>, or None when the registration has no link (yet)."""
    token = links.token_for(registration, config["SECRET_KEY"])
    if token is None:
        return None
    if base_url and not config.get("PUBLIC_BASE_URL"):
        return f"{base_url.rstrip('/')}/p/{token}"
    return web.public_url(config, "auth.personal_link", token=token)


def render(
    kind: str,
    *,
    registration: Registration,
    stage: Stage,
    rule_offset: timedelta | None,
    locale: str,
    personal_url: str | None,
    page_url: str | None = None,
    text: str | None = None,
    previous_start: datetime | None = None,
) -> Mapping[str, OutgoingMessage]:
    """One message per channel ("email", "whatsapp", "inapp") for this participant.

    kind: "reminder" (rule_offset: how long before the start it goes out; None for a test),
    "evaluation" (a rule at the stage's end: the invitation to evaluate it),
    "announcement" (text: the organiser's words), "stage_changed" (previous_start: the old start),
    or a message to chosen participants (PARTICIPANT_MESSAGE_KINDS; text: the organiser's words;
    stage: the next one).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if kind == "announcement" and not text:
        raise ValueError("an announcement needs its text")
    if kind in (*PARTICIPANT_MESSAGE_KINDS, *CHAT_KINDS) and not text:
        raise ValueError("a message to chosen participants needs its text")
    if kind == "stage_changed" and previous_start is None:
        raise ValueError("a change notice needs the previous start")
    if locale not in i18n.LANGUAGES:
        locale = i18n.DEFAULT_LANGUAGE
    person = registration.person
    with force_locale(locale):
        facts = _facts(kind, registration, stage, rule_offset, locale, personal_url, text, previous_start)
    subject = facts["subject"]
    # Everything read from the database is read now; the messages are rendered from plain values.
    email, phone, registration_id = person.email, person.phone, str(registration.id)
    template = "participant_message" if kind in PARTICIPANT_MESSAGE_KINDS else kind
    # An answer to the participant's own message goes as free text (Meta: no template needed).
    parameters_type = FREE_TEXT_TYPE if kind == "whatsapp_reply" else TEMPLATE_PARAMETERS_TYPE
    # A calendar file for what the participant has a place in (none for the waiting list).
    with_calendar = kind != "waitlisted"
    ics_name = f"tahap-{stage.number}.ics"
    program_title, schedule_version = stage.program.title, stage.program.schedule_version
    events = calendar.events_for(registration, page_url, locale, [stage]) if with_calendar else []

    def text_for(star: str, link: str | None) -> str:
        with force_locale(locale):
            return render_template(
                f"{TEMPLATES}/{template}.txt", star=star, **{**facts, "personal_url": link}
            )

    def email_message() -> OutgoingMessage:
        with force_locale(locale):
            html = render_template(f"{TEMPLATES}/{template}.html", **facts)
        attachments: tuple[tuple[str, str, bytes], ...] = ()
        if with_calendar:  # only an email carries it
            ics = calendar.to_ics(program_title, events, schedule_version)
            attachments = ((ics_name, "text/calendar", ics),)
        return OutgoingMessage(
            channel="email",
            to=email,
            subject=subject,
            text=text_for("", personal_url),
            html=html,
            attachments=attachments,
        )

    def whatsapp_message() -> OutgoingMessage:
        parameters = json.dumps({"parameters": facts["template_parameters"]}, ensure_ascii=False)
        return OutgoingMessage(
            channel="whatsapp",
            to=phone,
            subject=subject,
            text=text_for("*", personal_url),  # *bold* in WhatsApp
            attachments=(("template.json", parameters_type, parameters.encode()),),
        )

    def inapp_message() -> OutgoingMessage:
        # The participant is already on their own page: no personal link.
        return OutgoingMessage(channel="inapp", to=registration_id, subject=subject, text=text_for("", None))

    return Rendered({"email": email_message, "whatsapp": whatsapp_message, "inapp": inapp_message})


class Rendered(Mapping[str, OutgoingMessage]):
    """A participant's message per channel, each rendered when first asked for.

    The engine sends one channel per delivery: rendering the other two as well would double the
    cost of a reminder. Rendering needs the app context (templates, translations), not the rows.
    """

    def __init__(self, builders: dict[str, Callable[[], OutgoingMessage]]):
        self._builders = builders
        self._messages: dict[str, OutgoingMessage] = {}

    def __getitem__(self, channel: str) -> OutgoingMessage:
        if channel not in self._messages:
            self._messages[channel] = self._builders[channel]()
        return self._messages[channel]

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


def _facts(kind, registration, stage, rule_offset, locale, personal_url, text, previous_start) -> dict:
    """Everything the templates show, computed once (under the participant's locale)."""
    program = stage.program
    zone = program.timezone
    mode = registration.mode_for(stage)
    stage_label = f"{i18n.stage_label(stage.number, locale)}: {stage.title}"
    starts = i18n.format_datetime_long(stage.starts_at, zone, locale)
    venue = ", ".join(part for part in (stage.venue_name, stage.venue_address) if part)
    online = mode == Mode.DARING or (mode is None and not venue)
    in_person = mode == Mode.LURING or (mode is None and bool(venue))
    meeting = " ".join(part for part in (stage.meeting_provider, stage.meeting_url) if part)
    facts = {
        "kind": kind,
        "locale": locale,
        "name": registration.person.name,
        "program_title": program.title,
        "organiser": program.organiser,
        "stage_label": stage_label,
        "when": i18n.format_range(stage.starts_at, stage.ends_at, zone, locale),
        "starts": starts,
        "mode": mode.value if mode else None,
        "in_person": in_person,
        "online": online,
        "venue": venue,
        "meeting_provider": stage.meeting_provider,
        "meeting_url": stage.meeting_url,
        "meeting_href": stage.meeting_url if stage.meeting_url.startswith(("https://", "http://")) else "",
        "meeting_id": stage.meeting_id,
        "meeting_passcode": stage.meeting_passcode,
        "personal_url": personal_url,
        "text": (text or "").strip(),
        "previous": i18n.format_datetime_long(previous_start, zone, locale) if previous_start else "",
        "offset": i18n.format_offset(rule_offset, locale) if rule_offset else "",
    }
    if kind == "evaluation":  # the stage is over: its evaluation, not its place or meeting
        facts.update(mode=None, in_person=False, online=False)
        online = False
        subject = _("Evaluation: %(stage)s", stage=stage_label)
        headline = _("Please fill in the evaluation of %(stage)s.", stage=stage_label)
    elif kind == "reminder":
        subject = _("Reminder: %(stage)s, %(starts)s", stage=stage_label, starts=starts)
        headline = (
            _("%(stage)s starts in %(duration)s.", stage=stage_label, duration=facts["offset"])
            if rule_offset
            else _("%(stage)s starts on %(starts)s.", stage=stage_label, starts=starts)
        )
    elif kind == "announcement":
        subject = _("Announcement: %(stage)s", stage=stage_label)
        headline = facts["text"]
    elif kind in PARTICIPANT_MESSAGE_KINDS:
        subject = _participant_message_subject(kind, program.title)
        headline = facts["text"]
    elif kind in CHAT_KINDS:
        subject = _("Poll: %(stage)s", stage=stage_label) if kind == "poll_question" else program.title
        headline = facts["text"]
    else:
        subject = _("Schedule changed: %(stage)s", stage=stage_label)
        headline = _(
            "The schedule of %(stage)s has changed (it was %(previous)s).",
            stage=stage_label,
            previous=facts["previous"],
        )
    # Meta template body, e.g. "Yth. {{1}}, {{2}} Waktu: {{3}}. Tempat: {{4}}. Tautan pribadi: {{5}}"
    where_online = [meeting]
    if stage.meeting_id:
        where_online.append(f"{_('Meeting ID')}: {stage.meeting_id}")
    if stage.meeting_passcode:
        where_online.append(f"{_('Passcode')}: {stage.meeting_passcode}")
    where = ", ".join(part for part in where_online if part) if online else venue
    facts["subject"] = subject
    parameters = [registration.person.name, headline, facts["when"], where, personal_url or ""]
    # One line each: Meta refuses new lines, tabs and runs of spaces in a parameter.
    facts["template_parameters"] = [" ".join(value.split()) for value in parameters]
    return facts


def _participant_message_subject(kind: str, program: str) -> str:
    if kind == "personal_link":
        return _("Your personal link: %(program)s", program=program)
    if kind == "approved":
        return _("Registration approved: %(program)s", program=program)
    if kind == "waitlisted":
        return _("On the waiting list: %(program)s", program=program)
    if kind == "certificate":
        return _("Your certificate is ready: %(program)s", program=program)
    if kind == "question_carried":
        return _("Your question goes on at the next stage: %(program)s", program=program)
    if kind == "assignment":
        return _("Your organisation's assignment: %(program)s", program=program)
    return _("A place for you: %(program)s", program=program)
