"""Arbitrary forms and JSON at the group work routes (hypothesis, a bounded number of examples):
the answer is a page, a redirect or a 4xx, never a 5xx; a refused save changes no output, a
refused setup or assignment changes no group; the group's own poll and question refuse anyone
else whatever the payload."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import test_groups
from tests.test_live import client_id, participant_client, staff_client
from workshop.groups.models import GroupMember, GroupOutput, GroupWork, StageGroup
from workshop.live.models import Question

world = test_groups.world  # the group tests' programme and people
editing = test_groups.editing
fixed_clock = test_groups.fixed_clock

SENT = itertools.count()
QUICK = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXAMPLES = settings(max_examples=60, **QUICK)
texts = st.text(max_size=30) | st.sampled_from(
    ["", "\x00", "\u202e", "x" * 4100, "=1+1", "-1", "0", "1e3", "99999999999", "none", "https://a.b/c"]
)
values = (
    texts
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.booleans()
    | st.none()
    | st.lists(texts, max_size=3)
    | st.floats(allow_nan=False)
)
FIELDS = ["dimensions", "mode", "cap", "group_id", "field", "text", "version", "leader_id", "meeting_url"]
forms = st.dictionaries(st.sampled_from(FIELDS), texts | st.lists(texts, max_size=3))
bodies = st.dictionaries(st.sampled_from(["field", "text", "version", "group_id"]), values) | values.filter(
    lambda value: value is not None  # no JSON at all is the form without script: tested below
)


def _state(session):
    session.expire_all()
    return (
        sorted(
            session.execute(
                select(GroupOutput.group_id, GroupOutput.field, GroupOutput.text, GroupOutput.version)
            )
        ),
        sorted(session.execute(select(GroupMember.registration_id, GroupMember.group_id))),
        sorted(session.execute(select(StageGroup.id, StageGroup.leader_id, StageGroup.meeting_url))),
        sorted(session.execute(select(GroupWork.stage_id, GroupWork.mode, GroupWork.cap))),
    )


@EXAMPLES
@given(body=bodies)
def test_any_json_save_is_a_4xx_or_a_save(app, session, world, editing, body):
    before = _state(session)
    response = editing["outsider"].post(editing["url"], json=body)
    assert response.status_code in (403, 422), response.status_code
    assert response.json["ok"] is False and response.json["message"]
    assert _state(session) == before
    response = editing["hall"].post(editing["url"], json=body)
    assert response.status_code in (200, 409, 422), response.status_code
    if response.status_code != 200:
        assert _state(session) == before


@EXAMPLES
@given(form=forms)
def test_any_form_at_the_organiser_and_participant_routes_is_a_4xx_at_worst(
    app, session, world, editing, form
):
    stage, group = world["stage"], editing["group"]
    organiser = staff_client(app, world["organiser"])
    for url in (
        f"/admin/stages/{stage.id}/kelompok/atur",
        f"/admin/kelompok/{group.id}",
        f"/admin/stages/{stage.id}/kelompok/anggota",
    ):
        before = _state(session)
        response = organiser.post(url, data=form)
        assert response.status_code in (302, 422), (url, response.status_code)
        if response.status_code == 422:
            assert _state(session) == before, url
    participant = participant_client(app, session, world["hall"][1])
    slug = world["program"].slug
    for url in (f"/saya/{slug}/kelompok/{stage.id}/pilih", f"/saya/{slug}/kelompok/{stage.id}/hasil"):
        before = _state(session)
        response = participant.post(url, data=form)
        assert response.status_code in (302, 403, 409, 422), (url, response.status_code)
        if response.status_code != 302:
            assert _state(session) == before, url


@EXAMPLES
@given(group_id=values)
def test_no_group_id_lets_an_outsider_ask_into_a_group(app, session, world, editing, group_id):
    stage = world["stage"]
    body = {"client_id": client_id("fuzz"), "text": "Boleh?", "group_id": group_id}
    response = editing["outsider"].post(f"/live/{stage.id}/questions", json=body)
    session.expire_all()
    asked = session.scalars(select(Question.group_id)).all()
    if response.status_code == 200:
        assert asked[-1] is None  # asked to the whole stage only
    else:
        assert response.json["ok"] is False
    assert editing["group"].id not in asked


@EXAMPLES
@given(group_id=values, poll_group=st.booleans())
def test_no_socket_payload_lets_an_outsider_into_a_group_s_question_or_poll(
    app, session, world, editing, group_id, poll_group
):
    from tests.test_live import joined_socket, make_poll, open_now
    from workshop.live.models import PollVote

    stage, group = world["stage"], editing["group"]
    moderator = world["organiser"]
    poll = make_poll(session, stage, moderator)
    poll.group_id = group.id if poll_group else None
    session.commit()
    open_now(session, poll, moderator)
    socket = joined_socket(app, editing["outsider"], stage)
    number = next(SENT)  # a new client id each example: a repeated one answers what it answered first
    ask = socket.emit(
        "ask",
        {"stage_id": stage.id, "client_id": client_id(f"fz{number}"), "text": "Boleh?", "group_id": group_id},
        callback=True,
    )
    vote = socket.emit(
        "vote",
        {
            "stage_id": stage.id,
            "poll_id": poll.id,
            "client_id": client_id(f"fv{number}"),
            "answer": {"option_ids": [poll.options[0].id]},
            "group_id": group_id,
        },
        callback=True,
    )
    socket.disconnect()
    session.expire_all()
    assert group.id not in session.scalars(select(Question.group_id)).all()
    assert ask["ok"] is False or ask["question"]["group_id"] is None
    voted = session.scalars(select(PollVote.id).where(PollVote.poll_id == poll.id)).all()
    if poll_group:
        assert vote == {"ok": False, "error": "not_in_group", "message": vote["message"]} and voted == []
    else:
        assert vote["ok"] is True and len(voted) == 1
