"""Every route of the reminders blueprint with what a careless or hostile organiser's browser or
script sends (hypothesis, a bounded number of examples): ids no row can have (2^63, 2^70, 0,
negative, NUL), control bytes, U+202E, 50,000-character texts, numbers past any column, wrong
kinds, fields missing or sent twice. Never a server error: a refused rule, announcement or message
text is the form again with its error in Indonesian (or a 404, or the page with a flashed error),
and every table is as it was; another organiser's good request right after succeeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.test_evaluation_fuzz import BAD_IDS, NOT_FOUND, snapshot
from tests.test_live import staff_client
from tests.test_programme_forms_fuzz import EXAMPLES, MORE_HOSTILE
from workshop.auth.models import Role
from workshop.registration.models import Status
from workshop.reminders import services
from workshop.reminders.models import Anchor, Audience, ReminderRule

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
MISSING = object()
RULE_ERRORS = (
    "Wajib diisi.",
    "Pilihan tidak sah.",
    "Isi dengan bilangan bulat.",
    "Dari 1 sampai 999.",
    "Dari 1 sampai 720 jam.",
    "Pilih sedikitnya satu saluran.",
    "bukan pilihan yang sah",
)
GOOD_RULE = {
    "anchor": "start",
    "offset_value": "2",
    "offset_unit": "days",
    "window_hours": "",
    "channels": ["email", "inapp"],
    "audience": "all",
    "stage_id": "0",
    "active": "y",
}
VALUES = [
    *MORE_HOSTILE,
    "",
    str(2**63),
    str(2**70),
    "-5",
    "1.5",
    "NaN",
    "1e3",
    "1000",
    "721",
    "999",
    "start",
    "end",
    "minutes",
    "weeks",
    "whatsapp",
    "sms",
    "luring",
    "daring",
    "everyone",
    "y",
    "false",
]
hostile = st.sampled_from(VALUES)


@pytest.fixture
def world(app, session, set_now):
    set_now(NOW)
    program = factories.program(session, title="Bimtek Smart City", stages=2)
    elsewhere = factories.program(session, title="Bimtek Lain", stages=1)
    rina = factories.registration(session, program, status=Status.APPROVED, name="Rina Siregar")
    stranger = factories.registration(session, elsewhere, status=Status.APPROVED, name="Orang Lain")
    services.ensure_default_rules(session, program, NOW)
    services.ensure_default_rules(session, elsewhere, NOW)
    end_rule = services.create_rule(
        session,
        program,
        stage=None,
        offset_minutes=0,
        window_minutes=None,
        channels=["inapp"],
        audience=Audience.ALL,
        anchor=Anchor.END,
        actor=None,
        now=NOW,
    )
    organiser = factories.staff(session, Role.PANITIA)
    other = factories.staff(session, Role.PANITIA)
    session.commit()
    rules = session.scalars(select(ReminderRule).where(ReminderRule.program_id == program.id)).all()
    foreign_rule = session.scalars(
        select(ReminderRule).where(ReminderRule.program_id == elsewhere.id)
    ).first()
    return {
        "program": program,
        "elsewhere": elsewhere,
        "stage": program.stages[0],
        "foreign_stage": elsewhere.stages[0],
        "rule": next(rule for rule in rules if rule.anchor == Anchor.START),
        "end_rule": end_rule,
        "foreign_rule": foreign_rule,
        "rina": rina,
        "stranger": stranger,
        "organiser": staff_client(app, organiser),
        "other": staff_client(app, other),
    }


def _text(response) -> str:
    return response.get_data(as_text=True)


def _form(good: dict[str, object], field: str, value: object, twice: bool) -> dict[str, object]:
    data = dict(good)
    if value is MISSING:
        data.pop(field, None)
    elif twice:
        first = good.get(field, "")
        data[field] = [*(first if isinstance(first, list) else [first]), value]
    else:
        data[field] = value
    return data


def _rules(session) -> list[tuple]:
    session.expire_all()
    found = sorted(
        (rule.id, rule.offset_minutes, rule.window_minutes, rule.channels, rule.audience.value, rule.active)
        for rule in session.scalars(select(ReminderRule))
    )
    session.commit()
    return found


# -- rule forms ----------------------------------------------------------------------------------


@given(
    field=st.sampled_from([*sorted(GOOD_RULE), "extra"]),
    value=hostile | st.just(MISSING),
    twice=st.booleans(),
)
@example(field="offset_value", value=str(2**70), twice=False)
@example(field="window_hours", value=str(2**63), twice=False)
@example(field="stage_id", value=str(2**70), twice=False)
@example(field="stage_id", value="\x00", twice=False)
@example(field="channels", value="sms", twice=True)
@example(field="channels", value=MISSING, twice=False)
@example(field="offset_value", value=MISSING, twice=False)
@example(field="offset_unit", value="weeks", twice=False)
@example(field="anchor", value="x" * 50_000, twice=True)
@EXAMPLES
def test_any_hostile_field_of_the_rule_forms_is_refused_in_indonesian_or_saved_and_another_goes_on(
    session, world, field, value, twice
):
    program, rule = world["program"], world["rule"]
    data = _form(GOOD_RULE, field, value, twice)
    for path in (
        f"/admin/programs/{program.id}/reminders/rules/new",
        f"/admin/reminders/rules/{rule.id}/edit",
    ):
        before = snapshot()
        response = world["organiser"].post(path, data=data)
        assert response.status_code in (200, 302, 413), (path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"] == f"/admin/programs/{program.id}/reminders"
            continue
        if response.status_code == 200:
            page = _text(response)
            assert any(error in page for error in RULE_ERRORS), re.sub(r"\s+", " ", page)[-3000:]
        assert snapshot() == before
    count = len(_rules(session))
    good = GOOD_RULE | {"offset_value": "5", "offset_unit": "hours"}
    assert (
        world["other"].post(f"/admin/programs/{program.id}/reminders/rules/new", data=good).status_code == 302
    )
    assert world["other"].post(f"/admin/reminders/rules/{rule.id}/edit", data=good).status_code == 302
    assert len(_rules(session)) == count + 1
    session.expire_all()
    assert session.get(ReminderRule, rule.id).offset_minutes == 5 * 60
    session.commit()


def test_a_stage_of_another_programme_is_not_a_choice_for_a_new_rule(session, world):
    program = world["program"]
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/programs/{program.id}/reminders/rules/new",
        data=GOOD_RULE | {"stage_id": str(world["foreign_stage"].id)},
    )
    assert response.status_code == 200
    assert "Pilihan tidak sah." in _text(response)
    assert snapshot() == before


def test_the_rule_at_the_stages_end_saves_from_its_own_edit_form(session, world):
    """The edit form shows the moment as text (no radio buttons): what the browser sends back must
    save an end-of-stage rule with no time before the end."""
    rule = world["end_rule"]
    response = world["organiser"].post(
        f"/admin/reminders/rules/{rule.id}/edit",
        data={
            "offset_value": "",
            "offset_unit": "days",
            "window_hours": "",
            "channels": ["inapp", "email"],
            "audience": "all",
            "active": "y",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(ReminderRule, rule.id)
    assert (saved.anchor, saved.offset_minutes, saved.channel_list) == (Anchor.END, 0, ["email", "inapp"])


# -- ids in paths ------------------------------------------------------------------------------

PATH_IDS = [*BAD_IDS, str(2**70), "9223372036854775807"]


def _id_routes(world) -> list[tuple[str, str]]:
    stage, rule = world["stage"], world["rule"]
    return [
        ("get", "/admin/programs/{}/reminders"),
        ("post", "/admin/programs/{}/reminders/setup"),
        ("get", "/admin/programs/{}/reminders/rules/new"),
        ("post", "/admin/programs/{}/reminders/rules/new"),
        ("get", "/admin/reminders/rules/{}/edit"),
        ("post", "/admin/reminders/rules/{}/edit"),
        ("post", "/admin/reminders/rules/{}/delete"),
        ("post", "/admin/reminders/rules/{}/stages/" + str(stage.id)),
        ("post", f"/admin/reminders/rules/{rule.id}/stages/" + "{}"),
        ("get", "/admin/stages/{}/reminders"),
        ("get", "/admin/stages/{}/reminders.json"),
        ("post", "/admin/stages/{}/reminders/retry"),
        ("post", "/admin/stages/{}/announcements"),
        ("get", "/admin/stages/{}/reminders/preview"),
        ("post", "/admin/stages/{}/reminders/test"),
        ("get", "/admin/programs/{}/messages"),
        ("post", "/admin/programs/{}/messages"),
        ("get", "/admin/reminders/outbox/{}"),
        ("get", "/admin/reminders/outbox/{}/html"),
    ]


@given(bad_id=st.sampled_from(PATH_IDS), data=st.data())
@EXAMPLES
def test_any_id_no_row_has_is_404_in_indonesian_on_every_reminder_route(session, world, bad_id, data):
    method, path = data.draw(st.sampled_from(_id_routes(world)))
    before = snapshot()
    url = path.format(bad_id)
    response = getattr(world["organiser"], method)(
        url, data={"enabled": "0", **GOOD_RULE} if method == "post" else None
    )
    assert response.status_code == 404, (url, response.status_code)
    assert NOT_FOUND in _text(response)
    assert snapshot() == before


def test_a_rule_switched_for_a_stage_of_another_programme_is_refused_in_indonesian(session, world):
    rule, foreign = world["rule"], world["foreign_stage"]
    before = _rules(session)
    response = world["organiser"].post(
        f"/admin/reminders/rules/{rule.id}/stages/{foreign.id}", data={"enabled": "0"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Tahap ini milik kegiatan lain." in _text(response)
    assert _rules(session) == before


@given(value=hostile | st.just(MISSING), twice=st.booleans())
@EXAMPLES
def test_any_value_of_a_rules_stage_switch_turns_it_on_or_off_and_nothing_else(session, world, value, twice):
    rule, stage = world["rule"], world["stage"]
    data = _form({"enabled": "1"}, "enabled", value, twice)
    response = world["organiser"].post(f"/admin/reminders/rules/{rule.id}/stages/{stage.id}", data=data)
    assert response.status_code in (302, 413)
    if response.status_code == 302:
        assert (
            response.headers["Location"]
            == f"/admin/programs/{world['program'].id}/reminders#stage-{stage.id}"
        )
    session.expire_all()
    enabled = session.get(ReminderRule, rule.id).applies_to(session.get(type(stage), stage.id))
    session.commit()
    if response.status_code == 413:  # a form body past MAX_FORM_MEMORY_SIZE: nothing read
        assert enabled
    else:  # the first "enabled" counts; only "1" switches the rule on
        assert enabled == ((twice and value is not MISSING) or value == "1")


# -- announcements, retries, previews, test sends, own contact ---------------------------------

GOOD_ANNOUNCEMENT = {"text": "Ruangan pindah ke Aula Bappeda.", "channels": ["inapp"], "audience": "all"}
ANNOUNCEMENT_ERRORS = (*RULE_ERRORS, "Paling banyak 1000 karakter.", "Tuliskan pesannya.")


@given(
    field=st.sampled_from([*sorted(GOOD_ANNOUNCEMENT), "extra"]),
    value=hostile | st.just(MISSING),
    twice=st.booleans(),
)
@example(field="text", value="x" * 50_000, twice=False)
@example(field="text", value="\x00\u202e", twice=False)
@example(field="channels", value="sms", twice=True)
@EXAMPLES
def test_any_hostile_announcement_is_refused_in_indonesian_or_sent(session, world, field, value, twice):
    stage = world["stage"]
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/stages/{stage.id}/announcements", data=_form(GOOD_ANNOUNCEMENT, field, value, twice)
    )
    assert response.status_code in (302, 400, 413), response.status_code
    if response.status_code == 400:
        page = _text(response)
        assert any(error in page for error in ANNOUNCEMENT_ERRORS), re.sub(r"\s+", " ", page)[-3000:]
    if response.status_code != 302:
        assert snapshot() == before
    good = world["other"].post(f"/admin/stages/{stage.id}/announcements", data=GOOD_ANNOUNCEMENT)
    assert good.status_code == 302


@given(
    parameter=st.sampled_from(["registration_id", "rule_id"]),
    value=st.sampled_from([*VALUES, *BAD_IDS]),
    route=st.sampled_from(["preview", "test", "retry"]),
)
@EXAMPLES
def test_any_id_in_a_preview_test_send_or_retry_is_a_page_or_a_flashed_error_and_changes_nothing(
    session, world, parameter, value, route
):
    stage, rina, rule = world["stage"], world["rina"], world["rule"]
    good = {"registration_id": str(rina.id), "rule_id": str(rule.id)}
    data = good | {parameter: value}
    before = snapshot()
    if route == "preview":
        response = world["organiser"].get(f"/admin/stages/{stage.id}/reminders/preview", query_string=data)
        assert response.status_code in (200, 302)
    else:
        path = f"/admin/stages/{stage.id}/reminders/{route}"
        response = world["organiser"].post(path, data=data, follow_redirects=True)
        assert response.status_code == 200
    if route != "retry" and parameter == "registration_id":
        assert response.status_code in (302, 200)
        if response.status_code == 302 or route == "test":
            page = (
                _text(world["organiser"].get(response.headers["Location"]))
                if response.status_code == 302
                else _text(response)
            )
            assert "Pilih peserta untuk pratinjau." in page or "Rina Siregar" in page
    if route != "test":
        assert {table: rows for table, rows in snapshot().items() if table != "audit_entry"} == {
            table: rows for table, rows in before.items() if table != "audit_entry"
        }


def test_a_participant_of_another_programme_cannot_be_previewed_or_sent_a_test(session, world):
    stage, stranger = world["stage"], world["stranger"]
    before = snapshot()
    for method, path in (("get", "preview"), ("post", "test")):
        response = getattr(world["organiser"], method)(
            f"/admin/stages/{stage.id}/reminders/{path}",
            **(
                {"query_string": {"registration_id": stranger.id}}
                if method == "get"
                else {"data": {"registration_id": stranger.id}}
            ),
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert "Pilih peserta untuk pratinjau." in _text(response)
        assert "Orang Lain" not in _text(response)
    assert snapshot() == before


@given(
    field=st.sampled_from(["email", "phone", "next"]),
    value=st.sampled_from(
        [*VALUES, "rina@contoh.go.id", "0812-3456-7890", "//evil.example/", "https://evil.example/"]
    ),
    twice=st.booleans(),
)
@EXAMPLES
def test_any_own_contact_is_saved_whole_or_refused_in_indonesian_and_never_leaves_the_site(
    session, world, field, value, twice
):
    good = {"email": "panitia@contoh.go.id", "phone": "0812-3456-7890", "next": "/admin/reminders/outbox"}
    before = snapshot()
    response = world["organiser"].post("/admin/reminders/my-contact", data=_form(good, field, value, twice))
    assert response.status_code in (302, 413)
    if response.status_code == 413:
        assert snapshot() == before
        return
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    page = _text(world["organiser"].get(location))
    if "Kontak Anda untuk pesan uji coba telah disimpan." not in page:
        assert (
            "Masukkan alamat email yang valid." in page
            or "Masukkan nomor ponsel Indonesia" in page
            or "Paling banyak" in page
        ), re.sub(r"\s+", " ", page)[-2000:]
        assert snapshot() == before


# -- the words of the messages to participants ---------------------------------------------------

MESSAGE_KINDS = ["personal_link", "approved", "waitlisted", "promoted", "certificate", "question_carried"]


@given(
    kind=st.sampled_from([*MESSAGE_KINDS, *VALUES]),
    field=st.sampled_from(["text_id", "text_en", "channels", "automatic", "kind"]),
    value=hostile | st.just(MISSING),
    twice=st.booleans(),
    data=st.data(),
)
@example(kind="approved", field="text_id", value="x" * 50_000, twice=False, data=None)
@example(kind="approved", field="channels", value="inapp", twice=False, data=None)
@EXAMPLES
def test_any_hostile_message_text_is_refused_in_indonesian_or_saved_whole(
    session, world, kind, field, value, twice, data
):
    program = world["program"]
    good = {
        "kind": kind,
        f"{kind}-text_id": "Selamat, {nama}!",
        f"{kind}-text_en": "",
        f"{kind}-channels": ["email"],
    }
    name = field if field == "kind" else f"{kind}-{field}"
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/programs/{program.id}/messages", data=_form(good, name, value, twice)
    )
    assert response.status_code in (200, 302, 400, 413), response.status_code
    if response.status_code in (200, 400, 413):
        assert snapshot() == before
    if response.status_code == 400:
        page = _text(response)
        assert any(
            error in page
            for error in (
                "Pilih WhatsApp, email, atau keduanya.",
                "Paling banyak 2000 karakter.",
                "bukan pilihan yang sah",
            )
        ), re.sub(r"\s+", " ", page)[-3000:]
    assert world["other"].get(f"/admin/programs/{program.id}/messages").status_code == 200


def test_a_refused_rule_is_told_in_english_to_an_english_organiser(session, world):
    program = world["program"]
    world["organiser"].post("/language/en")
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/programs/{program.id}/reminders/rules/new", data=GOOD_RULE | {"offset_value": str(2**70)}
    )
    assert response.status_code == 200
    assert "From 1 to 999." in _text(response)
    assert snapshot() == before
