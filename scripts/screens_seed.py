"""The data behind scripts/screens.py's screenshots: the demo, plus what it lacks (an evaluation
answered, a certificate, an agency's assignment), and the ids and links the page list needs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from workshop.assignments import services as assignments
from workshop.assignments.models import LatePolicy
from workshop.auth.models import Role, User
from workshop.certificates import issuing
from workshop.certificates import services as certificates
from workshop.certificates.eligibility import Standing
from workshop.certificates.models import Certificate
from workshop.db import db, utcnow
from workshop.demo import seed
from workshop.evaluation import services as evaluation
from workshop.evaluation.models import ItemKind
from workshop.live.models import Poll
from workshop.programs.models import Organization, OrgKind, Program
from workshop.registration import links
from workshop.registration.models import Mode, Registration, RegistrationStage, Status
from workshop.reminders.models import ReminderRule
from workshop.reminders.services import ensure_default_rules


def seed_screens(app, passwords: dict[str, str]) -> dict:
    """The demo, and the ids and links the page list needs."""
    with app.app_context():
        session = db.session
        seed(session, passwords=passwords, config=app.config)
        program = session.scalar(select(Program))
        certificate_code = _evaluation_and_certificate(session, program)
        ensure_default_rules(session, program, utcnow())

        def participant(mode: Mode) -> Registration:
            return session.scalar(
                select(Registration)
                .join(RegistrationStage)
                .where(Registration.status == Status.APPROVED, RegistrationStage.mode == mode)
                .order_by(Registration.id)
                .limit(1)
            )

        assignment_id = _assignment(
            session, program, participant(Mode.LURING), app.config["ASSIGNMENT_FILES_DIR"]
        )
        session.commit()
        stages = program.stages  # loaded after the commit: they stay readable once the context ends
        luring, daring = participant(Mode.LURING), participant(Mode.DARING)
        return {
            "assignment": assignment_id,
            "agency": luring.person.organization_id,
            "program": program,
            "running": stages[0],
            "upcoming": stages[1],
            "registration": luring,
            "luring_token": links.token_for(luring, app.config["SECRET_KEY"]),
            "daring_token": links.token_for(daring, app.config["SECRET_KEY"]),
            "poll": session.scalar(select(Poll).where(Poll.stage_id == stages[0].id).order_by(Poll.id)),
            "rule": session.scalar(select(ReminderRule).where(ReminderRule.program_id == program.id)),
            "organization": session.scalar(select(Organization).order_by(Organization.id)),
            "certificate_code": certificate_code,
        }


def _evaluation_and_certificate(session, program: Program) -> str:
    """The default questionnaire with Tahap I answered by some participants, as on its last day;
    the certificate rule and one certificate, as if Tahap I had ended: its verification code."""
    tahap_i = program.stages[0]
    questionnaire = evaluation.create_default(session, program, actor=None, now=utcnow())
    answering = evaluation.window(tahap_i, questionnaire.deadline_days).opens_at + timedelta(hours=6)
    answered = session.scalars(
        select(Registration)
        .where(Registration.program_id == program.id, Registration.status == Status.APPROVED)
        .order_by(Registration.id)
        .limit(24)
    ).all()
    for index, registration in enumerate(answered):
        answers = {}
        for item in questionnaire.items:
            if item.kind == ItemKind.SCALE:
                answers[item.id] = str(3 + (index + item.position) % 3)
            elif item.kind == ItemKind.CHOICE:
                answers[item.id] = item.options[index % 4 % 3]
            elif index % 6 == 0:
                answers[item.id] = FEEDBACK[index // 6 % len(FEEDBACK)]
        evaluation.submit(session, questionnaire, registration, tahap_i, answers, now=answering)
    certificates.save_settings(
        session,
        program,
        min_stages=3,
        min_jp=None,
        require_evaluation=False,
        signatory_name="Drs. Nikson Sitompul, M.Si",
        signatory_nip="196805121993031004",
        signatory_title="Kepala Dinas Komunikasi dan Informatika",
        place="Tarutung",
        signed_on=None,
        number_format="800/{n}/Kominfo/{year}",
        jp={stage.id: 8 for stage in program.stages},
        actor=None,
        now=utcnow(),
    )
    registration = answered[0]
    standing = Standing(stage_ids=(tahap_i.id,), jp=8, eligible=True)
    candidate = certificates.Candidate(
        registration.id, registration.person.name, registration.person.organization.label, standing
    )
    issuing.issue(session, program, [candidate], actor=None, now=utcnow())
    return session.scalar(select(Certificate.code).where(Certificate.registration_id == registration.id))


def _assignment(session, program: Program, registration: Registration, files_dir: str) -> int:
    """An assignment for every agency and village of Tahap II, that `registration`'s organisation
    handed in for one dimension: its id."""
    organiser = session.scalar(select(User).where(User.role == Role.PANITIA))
    assignment = assignments.save_assignment(
        session,
        program,
        None,
        stage=program.stages[1],
        title="Analisis kondisi dan ide inovasi per dimensi",
        instructions="Isi permasalahan dan usulan inovasi per dimensi Smart City, lampirkan dokumen konsep.",
        deadline=program.stages[1].starts_at,
        late_policy=LatePolicy.ACCEPT,
        wants_rows=True,
        wants_file=True,
        kinds=[OrgKind.OPD, OrgKind.DESA],
        picked_ids=[],
        reviewer=None,
        actor=organiser,
    )
    rows = {
        "governance": {
            "problem": "Data antar-OPD tersebar di banyak aplikasi yang tidak saling terhubung.",
            "innovation": "Portal Satu Data Tapanuli Utara",
            "owner": "Diskominfo",
            "year": "2022",
        }
    }
    organization = registration.person.organization
    assignments.submit(
        session, assignment, organization, rows=rows, files_dir=files_dir, actor=organiser, now=utcnow()
    )
    return assignment.id


FEEDBACK = [
    "Materi sangat bermanfaat untuk menyusun rencana desa kami.",
    "Sinyal internet di kantor desa lemah; mohon materi dibagikan dalam bentuk PDF.",
    "Waktu diskusi terlalu singkat.",
    "Narasumber menjelaskan dengan jelas dan memberi contoh dari kabupaten lain.",
]
