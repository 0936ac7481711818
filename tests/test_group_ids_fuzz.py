"""Ids from outside at the group routes (hypothesis, a bounded number of examples): the live page's
group parts answer 404 to any stage id that cannot be a row, and each participant sees only their
own; the group a save says its page shows (JSON or form) is refused with the exact Indonesian
message unless it is the saver's own group, and nothing changes; once a stage has ended a pick is
refused whatever group it names. A good request between two bad ones still succeeds."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories, test_groups, test_groups_fuzz
from tests.test_live import participant_client, staff_client
from workshop.groups import services
from workshop.groups.models import GroupMode, GroupOutput
from workshop.registration.models import Status

world = test_groups.world  # the group tests' programme and people
editing = test_groups.editing
fixed_clock = test_groups.fixed_clock
_state = test_groups_fuzz._state  # outputs, members, groups, modes: what a refusal must leave

QUICK = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXAMPLES = settings(max_examples=40, **QUICK)
SAVES = itertools.count(1)

RELOAD = "Muat ulang halaman lalu coba lagi."
MOVED = (
    "Anda dipindahkan ke kelompok lain sementara itu: teks Anda tidak tersimpan. "
    "Salin teks itu, lalu muat ulang halaman."
)
CHOOSE = "Pilih kelompok."
ENDED = "Tahap ini sudah selesai: kelompok tidak dapat diubah lagi."

# What is not a row id in a URL path segment: empty, too large for INTEGER (2^31), 2^63, negative,
# zero, not ASCII digits, control characters (percent-encoded as a browser sends them).
bad_path_ids = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "%C2%B2",
        "%00",
        "1%00",
        "%7F",
        "9223372036854775808",
        "2147483648",
        "1e3",
        "+1",
        "1.0",
        "x",
    ]
) | st.integers(min_value=2**31, max_value=2**80).map(str)
control = st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\u0085", "\u200b", "\n", "\t", " "])


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _version(session, group_id: int, field: str = "problems") -> int:
    session.expire_all()
    return session.get(GroupOutput, (group_id, field)).version


# -- the live page's group parts ------------------------------------------------------------


@pytest.fixture
def parts(app, session, world, editing):
    program, stage = world["program"], world["stage"]
    other_program = factories.program(session, stages=1)
    elsewhere = factories.registration(session, other_program, status=Status.APPROVED, name="Peserta Lain")
    session.commit()
    return {
        "path": f"/saya/{program.slug}/kelompok/{{}}/langsung",
        "stage": stage,
        "other_stage": other_program.stages[0],
        "elsewhere": participant_client(app, session, elsewhere),
    }


OWN_PARTS = (
    "Kelompok Anda: Smart economy Hasil kerja kelompok kami Tanya ke kelompok saya saja (Smart economy)"
)


@EXAMPLES
@given(stage_id=bad_path_ids)
def test_the_group_parts_answer_404_to_any_id_that_is_no_row_and_the_next_request_still_works(
    app, session, world, editing, parts, stage_id
):
    response = editing["hall"].get(parts["path"].format(stage_id))
    assert response.status_code == 404, (stage_id, response.status_code)
    own = editing["hall"].get(parts["path"].format(parts["stage"].id))
    assert own.status_code == 200 and _words(own.text) == OWN_PARTS


bad_slugs = st.sampled_from(["%00", "%C3%A9", "x" * 3000, "-1", "%E2%80%AE"]) | st.builds(
    lambda byte, at: (byte, at),
    st.sampled_from(["%00", "%01", "%1B", "%7F", "%C2%85", "%C2%A0"]),
    st.integers(0, 9),
)


@EXAMPLES
@given(slug=bad_slugs)
def test_the_group_parts_answer_404_to_any_programme_that_is_not_the_participant_s(
    app, session, world, editing, parts, slug
):
    own_slug = world["program"].slug
    if isinstance(slug, tuple):  # a control or non-ASCII byte inside the participant's own slug
        byte, at = slug
        at = min(at, len(own_slug))
        slug = own_slug[:at] + byte + own_slug[at:]
    response = editing["hall"].get(f"/saya/{slug}/kelompok/{parts['stage'].id}/langsung")
    assert response.status_code == 404, (slug, response.status_code)
    own = editing["hall"].get(parts["path"].format(parts["stage"].id))
    assert own.status_code == 200 and _words(own.text) == OWN_PARTS


def test_the_group_parts_are_the_participant_s_own_and_refused_to_anyone_else(
    app, session, world, editing, parts
):
    own_path = parts["path"].format(parts["stage"].id)
    assert _words(editing["hall"].get(own_path).text) == OWN_PARTS
    # A participant of the programme in no group: their own (empty) parts, never another's.
    outsider = editing["outsider"].get(own_path)
    assert outsider.status_code == 200 and _words(outsider.text) == ""
    # Another programme's participant: not found.
    assert parts["elsewhere"].get(own_path).status_code == 404
    # Another programme's stage under this programme: not found.
    assert editing["hall"].get(parts["path"].format(parts["other_stage"].id)).status_code == 404
    # Staff have no participant page; nobody logged in is sent to the personal-link page.
    assert staff_client(app, world["organiser"]).get(own_path).status_code == 403
    anonymous = app.test_client().get(own_path)
    assert (anonymous.status_code, anonymous.headers["Location"]) == (302, f"/masuk?next={own_path}")
    assert _words(editing["hall"].get(own_path).text) == OWN_PARTS


# -- the page's group on an output save -----------------------------------------------------


def _good_save(session, editing) -> None:
    """A member's save with the page's own group and the current version: it lands."""
    group = editing["group"]
    version = _version(session, group.id)
    text = f"Masalah {next(SAVES)}"
    response = editing["hall"].post(
        editing["url"], json={"field": "problems", "text": text, "version": version, "group_id": group.id}
    )
    assert response.status_code == 200 and response.json["ok"] is True, response.json
    session.expire_all()
    row = session.get(GroupOutput, (group.id, "problems"))
    assert (row.text, row.version) == (text, version + 1)


wrong_types = (
    st.text(max_size=12)
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)
not_ids = (
    st.integers(max_value=0) | st.integers(min_value=2**31, max_value=2**80) | st.sampled_from([2**63, 2**64])
)


@pytest.fixture
def other_ids(session, world, editing) -> list[int]:
    """Groups that are not the saver's: the stage's others, another stage's, one that does not exist."""
    group = editing["group"]
    others = [g.id for g in services.groups_of(session, world["stage"].id) if g.id != group.id]
    later = test_groups._set_up(session, world["program"].stages[1], dimensions=("governance",))
    return [*others, later["governance"].id, group.id + 1000]


@EXAMPLES
@given(data=st.data())
def test_a_json_save_naming_no_group_or_another_group_is_refused_exactly_and_changes_nothing(
    app, session, world, editing, other_ids, data
):
    group = editing["group"]
    kind = data.draw(st.sampled_from(["type", "not_id", "another"]))
    if kind == "type":
        group_id, expected = data.draw(wrong_types), (422, "bad_field", RELOAD)
    elif kind == "not_id":
        group_id, expected = data.draw(not_ids), (422, "invalid", RELOAD)
    else:
        group_id, expected = data.draw(st.sampled_from(other_ids)), (409, "moved", MOVED)
    _good_save(session, editing)
    before = _state(session)
    version = _version(session, group.id)

    response = editing["hall"].post(
        editing["url"],
        json={"field": "problems", "text": "Tidak boleh", "version": version, "group_id": group_id},
    )

    assert (response.status_code, response.json) == (
        expected[0],
        {"ok": False, "error": expected[1], "message": expected[2]},
    ), group_id
    assert _state(session) == before
    _good_save(session, editing)


@EXAMPLES
@given(data=st.data())
def test_a_form_save_naming_no_group_another_group_or_control_bytes_is_refused_exactly(
    app, session, world, editing, other_ids, data
):
    group = editing["group"]
    kind = data.draw(st.sampled_from(["control", "not_id", "another"]))
    if kind == "control":
        # A control byte around or inside the page's own id is not dropped into an id.
        own, byte = str(group.id), data.draw(control)
        at = data.draw(st.integers(min_value=0, max_value=len(own)))
        group_id, expected = own[:at] + byte + own[at:], (422, RELOAD)
    elif kind == "not_id":
        group_id = data.draw(
            st.sampled_from(["-1", "0", "²", "1e3", "0x1", str(2**31), str(2**63), "9" * 40, "١"])
        )
        expected = (422, RELOAD)
    else:
        group_id, expected = str(data.draw(st.sampled_from(other_ids))), (409, MOVED)
    _good_save(session, editing)
    before = _state(session)

    response = editing["hall"].post(
        editing["url"],
        data={
            "field": "problems",
            "text": "Tidak boleh",
            "version": str(_version(session, group.id)),
            "group_id": group_id,
        },
    )

    assert response.status_code == expected[0], (group_id, response.status_code)
    assert expected[1] in response.text
    assert _state(session) == before
    _good_save(session, editing)


# -- picking a group once the stage has ended -----------------------------------------------


@pytest.fixture
def ended(app, session, world, set_now):
    """Tahap I in choice mode has ended (Hall 0 in economy); Tahap II, also in choice mode, runs."""
    first, second = world["program"].stages[:2]
    groups = test_groups._set_up(session, first, mode=GroupMode.CHOICE)
    later = test_groups._set_up(session, second, mode=GroupMode.CHOICE)
    services.assign(session, first, {world["hall"][0].id: groups["economy"].id}, actor=None)
    session.commit()
    set_now(second.starts_at + timedelta(hours=1))
    slug = world["program"].slug
    return {
        "url": f"/saya/{slug}/kelompok/{first.id}/pilih",
        "later_url": f"/saya/{slug}/kelompok/{second.id}/pilih",
        "groups": groups,
        "later": later,
        "second": second,
        "client": participant_client(app, session, world["hall"][0]),
    }


join_values = (
    st.sampled_from(["", "0", "-1", "²", "\x00", "1e3", str(2**31), str(2**63), "none"])
    | st.integers(min_value=1, max_value=2**31 - 1).map(str)
    | st.text(max_size=10)
)


@EXAMPLES
@given(data=st.data())
def test_a_pick_once_the_stage_has_ended_is_refused_whatever_it_names_and_a_running_stage_s_still_works(
    app, session, world, ended, data
):
    named = data.draw(st.sampled_from([*(str(g.id) for g in ended["groups"].values()), None]))
    value = named if named is not None else data.draw(join_values)
    before = _state(session)

    response = ended["client"].post(ended["url"], data={"group_id": value})

    assert response.status_code == 422, (value, response.status_code)
    known = value.isascii() and value.isdigit() and 1 <= int(value) < 2**31
    assert (ENDED if known else CHOOSE) in response.text, value
    assert _state(session) == before
    # The running stage's pick, right after: it lands.
    target = data.draw(st.sampled_from(list(ended["later"].values())))
    moved = ended["client"].post(ended["later_url"], data={"group_id": str(target.id)})
    assert moved.status_code == 302
    session.expire_all()
    assert services.group_of(session, ended["second"].id, world["hall"][0].id).id == target.id


@EXAMPLES
@given(data=st.data())
def test_a_pick_with_a_control_byte_in_or_around_the_id_joins_no_group_and_a_clean_pick_still_lands(
    app, session, world, ended, data
):
    """The form's cleaning drops control bytes from text: "1\x002" must not become a pick of group 12."""
    target = data.draw(st.sampled_from(list(ended["later"].values())))
    own, byte = str(target.id), data.draw(control)
    at = data.draw(st.integers(min_value=0, max_value=len(own)))
    value = own[:at] + byte + own[at:]
    before = _state(session)

    response = ended["client"].post(ended["later_url"], data={"group_id": value})

    assert response.status_code == 422, (value, response.status_code)
    assert CHOOSE in response.text
    assert _state(session) == before
    moved = ended["client"].post(ended["later_url"], data={"group_id": own})
    assert moved.status_code == 302
    session.expire_all()
    assert services.group_of(session, ended["second"].id, world["hall"][0].id).id == target.id
