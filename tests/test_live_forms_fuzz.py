"""The facilitator's poll forms and Q&A settings with what a careless or hostile client sends
(hypothesis, a bounded number of examples): numbers past any column, NaN, control bytes, U+202E,
50,000-character texts, too many, empty or repeated options, fields missing, sent twice or of the
wrong kind. Never a server error: a refused poll is the form again with its error in Indonesian
and leaves every table as it was, and another facilitator's good poll right after is stored."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.test_evaluation_fuzz import snapshot
from tests.test_live import make_poll, staff_client
from tests.test_programme_forms_fuzz import EXAMPLES, MORE_HOSTILE
from workshop.auth.models import Role
from workshop.live.models import LiveStage, Poll, PollKind, ResultsVisibility

GOOD_POLL = {
    "question": "Apakah desa Anda sudah punya akses internet?",
    "kind": "multiple",
    "options": "Ya\nTidak\nRagu",
    "max_choices": "2",
    "scale": "5",
    "results_visibility": "live",
    "allow_change": "y",
    "duration_seconds": "60",
    "group_id": "",
}
POLL_ERRORS = (
    "Wajib diisi.",
    "Pilihan tidak sah.",
    "Pilih salah satu pilihan yang tersedia.",
    "Isi dengan bilangan bulat.",
    "Paling banyak 300 karakter.",
    "Berikan 2 sampai 12 opsi, satu per baris.",
    "Ada dua opsi yang sama.",
    "Angka itu melebihi jumlah opsi.",
    "Masukkan angka 1 sampai 12.",
    "Masukkan jumlah detik dari 10 sampai 3600.",
)
POLL_VALUES = [
    *MORE_HOSTILE,
    str(2**70),
    "NaN",
    "inf",
    "1.5",
    "\u202eYa\nTidak",
    "\n".join(f"Opsi {number}" for number in range(13)),
    "\n\n \n",
    "Ya\nYa",
    "Ya\n" + "x" * 50_000,
    "single",
    "rating",
    "wordcloud",
    "text",
    "10",
    "after_close",
    "hidden",
]
MISSING = object()


@pytest.fixture
def world(app, session):
    program = factories.program(session, title="Bimtek Smart City", stages=1)
    facilitator = factories.staff(session, Role.NARASUMBER)
    other = factories.staff(session, Role.NARASUMBER)
    session.commit()
    stage = program.stages[0]
    draft = make_poll(session, stage, facilitator)
    return {
        "stage": stage,
        "draft": draft,
        "facilitator": staff_client(app, facilitator),
        "other": staff_client(app, other),
    }


def _form_data(good: dict[str, str], field: str, value: object, twice: bool) -> dict[str, object]:
    data: dict[str, object] = dict(good)
    if value is MISSING:
        data.pop(field, None)
    elif twice:
        data[field] = [good.get(field, ""), value]
    else:
        data[field] = value
    return data


def _assert_refused_in_indonesian_or_stored(response, before):
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        page = response.get_data(as_text=True)
        assert any(error in page for error in POLL_ERRORS), page[:2000]
        assert snapshot() == before
        return before
    return snapshot()


@given(
    field=st.sampled_from([*sorted(GOOD_POLL), "extra"]),
    value=st.sampled_from(POLL_VALUES) | st.just(MISSING),
    twice=st.booleans(),
)
@example(field="max_choices", value=str(2**70), twice=False)
@example(field="duration_seconds", value="NaN", twice=False)
@example(field="options", value="\n".join(f"Opsi {number}" for number in range(13)), twice=False)
@example(field="question", value="x" * 50_000, twice=True)
@example(field="group_id", value=str(2**70), twice=False)
@example(field="kind", value=MISSING, twice=False)
@EXAMPLES
def test_any_hostile_field_of_the_poll_forms_is_refused_in_indonesian_or_stored_and_another_goes_on(
    session, world, field, value, twice
):
    stage, draft = world["stage"], world["draft"]
    data = _form_data(GOOD_POLL, field, value, twice)
    before = snapshot()
    for path in (f"/live/{stage.id}/polls/new", f"/live/polls/{draft.id}/edit"):
        response = world["facilitator"].post(path, data=data)
        before = _assert_refused_in_indonesian_or_stored(response, before)
    count = len(session.scalars(select(Poll).where(Poll.stage_id == stage.id)).all())
    session.commit()
    good = GOOD_POLL | {"question": "Poll yang baik"}
    assert world["other"].post(f"/live/{stage.id}/polls/new", data=good).status_code == 302
    assert world["other"].post(f"/live/polls/{draft.id}/edit", data=good).status_code == 302
    session.expire_all()
    polls = session.scalars(select(Poll).where(Poll.stage_id == stage.id).order_by(Poll.id)).all()
    assert len(polls) == count + 1
    for poll in (polls[-1], session.get(Poll, draft.id)):
        assert poll.question == "Poll yang baik"
        assert (poll.kind, poll.max_choices, poll.duration_seconds) == (PollKind.MULTIPLE, 2, 60)
        assert poll.results_visibility == ResultsVisibility.LIVE
        assert [option.label for option in poll.options] == ["Ya", "Tidak", "Ragu"]


@given(
    field=st.sampled_from(["questions_moderated", "anonymous_allowed", "extra"]),
    value=st.sampled_from(MORE_HOSTILE) | st.just(MISSING),
    twice=st.booleans(),
)
@EXAMPLES
def test_any_hostile_q_and_a_setting_saves_a_plain_yes_or_no_and_another_facilitator_goes_on(
    session, world, field, value, twice
):
    stage = world["stage"]
    good = {"questions_moderated": "y", "anonymous_allowed": "y"}
    response = world["facilitator"].post(
        f"/live/{stage.id}/settings", data=_form_data(good, field, value, twice)
    )
    assert response.status_code == 302
    assert (
        world["other"].post(f"/live/{stage.id}/settings", data={"anonymous_allowed": "y"}).status_code == 302
    )
    session.expire_all()
    live = session.scalars(select(LiveStage).where(LiveStage.stage_id == stage.id)).one()
    assert (live.questions_moderated, live.anonymous_allowed) == (False, True)


@pytest.mark.parametrize("group_id", ["99", str(2**70), "1\x002"])
def test_a_group_the_stage_does_not_have_is_shown_as_the_error_of_who_answers(session, world, group_id):
    """A stage without groups hides "Who answers"; its error was hidden with it, so the form came
    back without saying why."""
    before = snapshot()
    response = world["facilitator"].post(
        f"/live/{world['stage'].id}/polls/new", data=GOOD_POLL | {"group_id": group_id}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="poll-group"' in page
    assert "Pilih salah satu pilihan yang tersedia." in page
    assert snapshot() == before
