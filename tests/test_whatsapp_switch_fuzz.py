"""Hypothesis against the participant's "Kirim polling ke WhatsApp saya" switch (whatsapp.participant_polls)
posted as JSON, which Flask-WTF reads as the form: a body whose stage or enabled field (or any other)
holds no text (a number, a huge id as a number, true, false, null, an object, a list of numbers), a
body that is no object, or no JSON at all, is answered 400 with the message in Indonesian (English on
an English session), changes neither switch nor the audit log, and another participant's switch right
after is served as usual. (Form-encoded junk at the same route: tests/test_whatsapp_optin.py.)"""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from tests import test_live
from tests.test_live import participant_client
from tests.test_whatsapp_fuzz import EXAMPLES
from tests.test_whatsapp_optin import SAID, audit_count, chosen, toggle
from workshop.registration.models import Registration

world = test_live.world
fixed_clock = test_live.fixed_clock

REFUSED = {"id": "Permintaan tidak dapat diproses", "en": "The request could not be processed"}
FIELDS = ["wa-me-enabled", "wa-me-stage_id", "wa-me-csrf_token", "enabled", "stage_id"]

texts = st.text(max_size=20) | st.sampled_from(["y", "false", "", "\x00", "\x1b[2J", "9" * 30, "1"])
numbers = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([2**63, 2**31, 10**30, 1.5, -0.0, 1e308])
)
not_texts = (
    numbers
    | st.dictionaries(st.sampled_from(["id", "y"]), texts, max_size=2)
    | st.lists(numbers, min_size=1, max_size=2)
)


@st.composite
def spoilt_objects(draw) -> str:
    """An object of the form's fields (and others) in which at least one holds no text."""
    body = draw(st.dictionaries(st.sampled_from(FIELDS), texts | st.lists(texts, max_size=2), max_size=3))
    body[draw(st.sampled_from(FIELDS))] = draw(not_texts)
    return json.dumps(body)


bodies = (
    spoilt_objects()
    | st.lists(texts | not_texts, max_size=3).map(json.dumps)
    | (texts | numbers).map(json.dumps)
    | st.sampled_from(["", "{", "{'wa-me-enabled': 'y'}", "NaN", '{"wa-me-enabled": "y",}'])
)


def test_a_json_object_of_texts_is_read_as_the_form(app, session, world):
    daring, stage = world["daring"], world["stage"]
    client = participant_client(app, session, daring)

    response = client.post(
        f"/whatsapp/registrations/{daring.id}/polls",
        json={"wa-me-enabled": ["y"], "wa-me-stage_id": str(stage.id)},
    )

    assert (response.status_code, response.location) == (302, f"/live/{stage.id}")
    assert chosen(session, daring) is True


def test_json_that_holds_no_text_where_the_form_s_fields_go_is_refused_and_changes_nothing(
    app, session, world
):
    daring, luring, stage = world["daring"], world["luring"], world["stage"]
    client, neighbour = participant_client(app, session, daring), participant_client(app, session, luring)
    flags = {daring.id: False, luring.id: False}

    @EXAMPLES
    @given(body=bodies, language=st.sampled_from(["id", "id", "en"]))
    # Each was a 500 (a number reached the text cleaning) or turned the switch on (null, a list of true):
    @example(json.dumps({"wa-me-stage_id": stage.id, "wa-me-enabled": "y"}), "id")
    @example(json.dumps({"wa-me-enabled": None}), "id")
    @example(json.dumps({"wa-me-enabled": [True], "wa-me-stage_id": str(stage.id)}), "en")
    @example(json.dumps({"wa-me-stage_id": 10**40}), "id")
    @example(json.dumps([1, 2]), "id")
    def check(body, language):
        with client.session_transaction() as browser:
            browser["lang"] = language
        audited = audit_count(session)

        response = client.post(
            f"/whatsapp/registrations/{daring.id}/polls", data=body, content_type="application/json"
        )

        with client.session_transaction() as browser:
            flashed = browser.pop("_flashes", [])
        assert (response.status_code, response.get_json(), flashed) == (
            400,
            {"error": "bad_request", "message": REFUSED[language]},
            [],
        )
        assert {rid: chosen(session, session.get_one(Registration, rid)) for rid in flags} == flags
        assert audit_count(session) == audited

        # Another participant's switch, right after: served as usual.
        flags[luring.id] = not flags[luring.id]
        response = toggle(neighbour, luring, stage.id, flags[luring.id], follow=False)
        with neighbour.session_transaction() as browser:
            flashed = browser.pop("_flashes", [])
        assert (response.status_code, response.location) == (302, f"/live/{stage.id}")
        assert flashed == [("success", SAID["id"][flags[luring.id]])]
        assert chosen(session, luring) is flags[luring.id]
        assert audit_count(session) == audited + 1

    check()
