"""The participant page keeps what it asks other features about a programme per process
(workshop/programs/facts.py): an organiser's change shows on the very next view, also when another
process (here a second app on the same database, with caches of its own) serves that view."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session as OrmSession

from tests import factories
from tests.csrf import CsrfClient
from tests.test_live import participant_client
from workshop import create_app
from workshop.assignments import services as assignments
from workshop.assignments.models import Assignment, LatePolicy
from workshop.auth.models import Role
from workshop.certificates import issuing
from workshop.certificates.eligibility import Standing
from workshop.certificates.services import Candidate
from workshop.db import db
from workshop.evaluation import services as evaluation
from workshop.groups import services as groups
from workshop.groups.models import GroupMode
from workshop.programs import services as programs
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import OrgKind, Program, Stage
from workshop.registration.models import Mode, Notice, Status

START = factories.TAHAP_I_START  # Kamis, 24 Juni 2021, pukul 09.00 WIB
BEFORE = START - timedelta(days=2)
STAGE_ENDED = START + timedelta(days=1, hours=8)  # the evaluation of Tahap I is open


@pytest.fixture
def world(session):
    program = factories.program(session, stages=2)
    kominfo = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    participant = factories.registration(
        session, program, status=Status.APPROVED, mode=Mode.DARING, org=kominfo, name="Rina Siregar"
    )
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return {"program": program, "participant": participant, "kominfo": kominfo, "organiser": organiser}


@pytest.fixture
def other(app):
    """Another server process: a second app on the same database, with caches of its own."""
    keys = (
        "TESTING",
        "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "RATELIMIT_ENABLED",
        "SERVER_NAME",
        "CERTIFICATE_DIR",
    )
    second = create_app({key: app.config[key] for key in keys})
    second.test_client_class = CsrfClient
    yield second
    with second.app_context():
        db.engine.dispose()


@pytest.fixture
def pages(app, other, session, world):
    """The participant's page, as each process serves it."""
    clients = [participant_client(served_by, session, world["participant"]) for served_by in (app, other)]
    url = f"/saya/{world['program'].slug}"

    def _pages() -> list[str]:
        responses = [client.get(url) for client in clients]
        assert [response.status_code for response in responses] == [200, 200]
        return [response.get_data(as_text=True) for response in responses]

    return _pages


def _each_has(pages: list[str], text: str) -> bool:
    has = [text in page for page in pages]
    assert has[0] == has[1], f"the two processes disagree on {text!r}"
    return has[0]


def test_a_stage_changed_through_one_process_shows_on_the_next_view_another_serves(
    session, world, pages, set_now
):
    set_now(BEFORE)
    assert _each_has(pages(), "Tahap ke-1")
    stage = world["program"].stages[0]
    programs.update_stage(
        session,
        stage,
        programs.StageDetails(
            title="Arsitektur Smart City",
            starts_at=START + timedelta(days=1),
            ends_at=START + timedelta(days=1, hours=7),
            venue_name="Aula Martua",
        ),
        actor=None,
    )
    session.commit()

    after = pages()
    assert _each_has(after, "Arsitektur Smart City")
    assert not _each_has(after, "Tahap ke-1<")
    assert _each_has(after, "Jumat, 25 Juni 2021, pukul 09.00 WIB")


def test_a_questionnaire_shows_its_invitation_on_the_next_view_and_its_new_deadline(
    session, world, pages, set_now
):
    set_now(STAGE_ENDED)
    assert not _each_has(pages(), 'data-testid="evaluation-1"')
    questionnaire = evaluation.create_default(session, world["program"], actor=None, now=BEFORE)
    session.commit()
    after = pages()
    assert _each_has(after, 'data-testid="evaluation-1"')
    assert _each_has(after, "Jumat, 2 Juli 2021, pukul 16.00 WIB")  # 7 days after the stage's end

    evaluation.set_deadline(session, questionnaire, 3, actor=None, now=STAGE_ENDED)
    session.commit()
    assert _each_has(pages(), "Senin, 28 Juni 2021, pukul 16.00 WIB")


def test_an_assignment_shows_for_the_targeted_organisations_only_from_the_next_view(
    session, world, pages, set_now
):
    set_now(BEFORE)
    program = world["program"]

    def save(assignment, kinds, picked_ids=()):
        saved = assignments.save_assignment(
            session,
            program,
            assignment,
            stage=program.stages[0],
            title="Analisis kondisi saat ini",
            instructions="",
            deadline=START + timedelta(days=7),
            late_policy=LatePolicy.ACCEPT,
            wants_rows=True,
            wants_file=False,
            kinds=kinds,
            picked_ids=list(picked_ids),
            reviewer=None,
            actor=world["organiser"],
        )
        session.commit()
        return saved

    assert not _each_has(pages(), 'data-testid="assignments"')
    assignment = save(None, (OrgKind.KECAMATAN,))
    assert not _each_has(pages(), 'data-testid="assignments"')  # not the participant's kind
    save(assignment, (OrgKind.OPD,))
    assert _each_has(pages(), f'data-testid="assignment-{assignment.id}"')
    save(assignment, (OrgKind.KECAMATAN,))
    assert not _each_has(pages(), 'data-testid="assignments"')
    save(assignment, (OrgKind.KECAMATAN,), picked_ids=[world["kominfo"].id])  # picked by name
    assert _each_has(pages(), f'data-testid="assignment-{assignment.id}"')


def test_group_work_set_up_on_a_stage_shows_on_the_next_view(session, world, pages, set_now):
    set_now(BEFORE)
    stage = world["program"].stages[1]
    assert not _each_has(pages(), f'data-testid="group-card-{stage.position}"')
    groups.set_up(session, stage, dimensions=DIMENSIONS, mode=GroupMode.ORGANISER, cap=None, actor=None)
    session.commit()
    assert _each_has(pages(), f'data-testid="group-card-{stage.position}"')


def test_a_certificate_issued_in_bulk_shows_on_the_next_view(session, world, pages, set_now):
    set_now(STAGE_ENDED + timedelta(days=30))
    assert not _each_has(pages(), 'data-testid="participant-certificate"')
    participant = world["participant"]
    standing = Standing(stage_ids=tuple(stage.id for stage in world["program"].stages), jp=16, eligible=True)
    candidate = Candidate(participant.id, "Rina Siregar", "Dinas Kominfo", standing)
    assert issuing.issue(session, world["program"], [candidate], actor=None, now=STAGE_ENDED) == 1
    session.commit()
    assert _each_has(pages(), 'data-testid="participant-certificate"')


def _version(program: Program) -> int:
    return db.session.scalar(select(Program.facts_version).where(Program.id == program.id))


def test_a_write_to_a_kept_table_moves_the_version_once_per_flush_and_other_writes_do_not(session, world):
    program = world["program"]
    before = _version(program)
    factories.registration(session, program, status=Status.APPROVED)
    program.title = "Bimtek Masterplan Smart City"
    session.commit()
    assert _version(program) == before

    questionnaire = evaluation.create_default(session, program, actor=None, now=BEFORE)
    session.commit()
    assert _version(program) == before + 1
    item = questionnaire.items[-1]
    evaluation.remove_item(session, item, actor=None, now=BEFORE)
    session.commit()
    assert _version(program) == before + 2


def test_two_writers_that_read_the_same_version_each_move_it_on(session, world):
    """The database computes the next version: a writer that read it before another's commit
    still moves it past that commit's (else a process could keep the first change's facts under
    the version of both)."""
    program = world["program"]
    program_id, stage_id = program.id, program.stages[0].id
    before = _version(program)
    session.commit()  # SQLite takes one writer at a time: the two take turns
    late = OrmSession(db.engine, expire_on_commit=False)
    try:
        seen = late.get(Program, program_id)  # kept: the late writer's session holds it
        assert seen is not None and seen.facts_version == before
        late.commit()
        evaluation.create_default(session, program, actor=None, now=BEFORE)
        session.commit()
        late.add(
            Assignment(
                program_id=program_id, stage_id=stage_id, title="Data", deadline=START, target_kinds="opd"
            )
        )
        late.commit()
    finally:
        late.close()
    assert _version(program) == before + 2
    assert _version(program) == before + 2


def test_the_page_of_a_programme_without_those_features_asks_only_for_its_own_rows(app, session, world):
    """The user, the registration with its programme, whether it has notices and its modes (one
    statement): nothing about the questionnaire, assignments, groups or certificates while the
    programme has none, and the notices only once there are some."""
    client = participant_client(app, session, world["participant"])
    url = f"/saya/{world['program'].slug}"
    assert client.get(url).status_code == 200  # the schedule and the facts are kept from here

    def tables_read() -> tuple[list[str], str, list[str]]:
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        words = [statement.split() for statement in statements if statement != "BEGIN"]
        # the table of each statement's last FROM (the registration's has a subquery in its columns)
        last_from = [max(n for n, word in enumerate(statement) if word == "FROM") for statement in words]
        return (
            [statement[n + 1].strip('"') for statement, n in zip(words, last_from, strict=True)],
            response.text,
            [word.strip('"') for word in words[1]],
        )

    tables, page, registration_statement = tables_read()
    assert tables == ["user", "registration"]
    assert "registration_stage" in registration_statement  # the modes, joined
    assert 'class="flash flash-info notice"' not in page

    session.add(Notice(registration_id=world["participant"].id, kind="promoted_from_waitlist"))
    session.commit()
    tables, page, _statement = tables_read()
    assert tables == ["user", "registration", "notice"]
    assert "Kabar baik: ada tempat yang kosong dan Anda naik dari daftar tunggu." in page


def test_the_page_names_a_village_with_its_kecamatan_and_the_person_as_registered(app, session, world):
    """The page reads its registration in one column-only statement: the same words as the ORM's."""
    program = world["program"]
    kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    village = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=kecamatan)
    head = factories.registration(
        session, program, status=Status.APPROVED, org=village, name="Kepala Desa Hutatoruan I"
    )
    session.commit()
    page = participant_client(app, session, head).get(f"/saya/{program.slug}").text
    assert "<h1>Kepala Desa Hutatoruan I</h1>" in page
    assert "<p>Kepala Bidang, Hutatoruan I, Kec. Tarutung</p>" in page
    code = head.ticket_code
    assert f'data-testid="ticket-code">{code[:4]}-{code[4:]}</p>' in page

    kominfo = participant_client(app, session, world["participant"]).get(f"/saya/{program.slug}").text
    assert "<p>Kepala Bidang, Dinas Kominfo</p>" in kominfo


def _retitled(stage: Stage, title: str) -> programs.StageDetails:
    """The stage's details as the edit form sends them back, with a new title."""
    kept = {field.name: getattr(stage, field.name) for field in fields(programs.StageDetails)}
    return programs.StageDetails(**kept | {"title": title})


def _schedule_version(program_id: int) -> int:
    return db.session.scalar(select(Program.schedule_version).where(Program.id == program_id))


def test_two_organisers_who_read_the_same_schedule_version_each_move_it_on(
    session, world, pages, other, set_now
):
    """Two organisers edit stages from the same schedule version, one through each process: the
    database computes the next version, so the second save still gets a version of its own (else
    both processes would keep the first save's schedule under the version of both)."""
    set_now(BEFORE)
    program = world["program"]
    program_id, first_stage = program.id, program.stages[0]
    before = _schedule_version(program_id)
    assert _each_has(pages(), "Tahap II: Tahap ke-2")
    session.commit()  # SQLite takes one writer at a time: the two take turns
    with other.app_context():
        late = OrmSession(db.engine, expire_on_commit=False)
    try:
        second_stage = late.get(Stage, program.stages[1].id)
        assert second_stage is not None and second_stage.program.schedule_version == before
        late.commit()  # the second organiser's form was read before the first one saved

        programs.update_stage(
            session, first_stage, _retitled(first_stage, "Arsitektur Smart City"), actor=None
        )
        session.commit()
        assert _schedule_version(program_id) == before + 1
        assert _each_has(pages(), "Tahap I: Arsitektur Smart City")  # both keep version before + 1

        programs.update_stage(late, second_stage, _retitled(second_stage, "Smart Branding Desa"), actor=None)
        late.commit()
        assert second_stage.program.schedule_version == before + 2  # read back after the flush
    finally:
        late.close()
    session.commit()  # a new transaction: it sees the late commit
    assert _schedule_version(program_id) == before + 2
    after = pages()
    assert _each_has(after, "Tahap I: Arsitektur Smart City")
    assert _each_has(after, "Tahap II: Smart Branding Desa")
    assert not _each_has(after, "Tahap II: Tahap ke-2")


def test_each_schedule_change_moves_the_version_on_by_one_and_reads_back_as_a_number(session, world):
    """What reads the version later in the same request (the calendar, a cache key) gets the
    database's number, not the expression the save left for the flush."""
    program = world["program"]
    before = _schedule_version(program.id)
    first, second = program.stages
    programs.update_stage(session, first, _retitled(first, "Arsitektur Smart City"), actor=None)
    assert isinstance(program.schedule_version, int) and program.schedule_version == before + 1
    programs.add_agenda_item(
        session, first, starts_at=first.starts_at, title="Pembukaan", speaker="Bupati", actor=None
    )
    programs.move_stage(session, second, -1, actor=None)
    assert program.schedule_version == before + 3
    session.commit()
    assert _schedule_version(program.id) == before + 3
