"""Arbitrary form fields and files at the assignment routes (hypothesis, a bounded number of
examples, on SQLite and PostgreSQL): the answer is a redirect or a 4xx, never a 5xx; a refused
file leaves nothing stored, an accepted one is a PDF, DOCX or XLSX by its content."""

from __future__ import annotations

import io
from datetime import timedelta

import filetype
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import test_assignments
from tests.test_assignments import BEFORE_MIDNIGHT, PDF, _assignment, docx_bytes, xlsx_bytes
from tests.test_live import participant_client, staff_client
from workshop.assignments.models import Assignment, SubmissionRevision

world = test_assignments.world  # the assignment tests' programme, organisations and people
files_dir = test_assignments.files_dir

# As many examples as fit in about a minute on the loaded 2-core machine (a form example makes
# three requests, ~0.3 s; a file example ~0.1 s: ~55 s in all, 28 s at the former 40 each), enough
# to reach the rarer mixes (a status with a comment, rows of two dimensions, a file that is
# almost a PDF) that 40 examples often missed.
QUICK = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FORM_EXAMPLES = settings(max_examples=100, **QUICK)
FILE_EXAMPLES = settings(max_examples=150, **QUICK)
FIELDS = [
    f"{d}-{n}" for d in ("governance", "economy", "x") for n in ("problem", "innovation", "owner", "year")
]
texts = st.text(max_size=40) | st.sampled_from(["", "\x00", "\u202e", "a" * 2100, "=1+1", "1" * 30])
forms = st.dictionaries(
    st.sampled_from([*FIELDS, "status", "comment", "stage_id", "kinds", "deadline"]), texts
)
contents = st.binary(max_size=300) | st.sampled_from(
    [PDF, b"", docx_bytes(), xlsx_bytes(), b"MZ" + b"\0" * 64]
)
names = st.text(max_size=30) | st.sampled_from(["a.pdf", "../../etc/passwd", "x.exe.pdf", "\x00.docx", ""])


@FORM_EXAMPLES
@given(form=forms)
def test_any_form_at_the_rows_and_review_routes_is_a_4xx_at_worst(app, session, world, set_now, form):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _first(session, world)
    participant = participant_client(app, session, world["kominfo_1"])
    response = participant.post(f"/saya/{world['program'].slug}/tugas/{assignment.id}", data=form)
    assert response.status_code in (302, 400), response.status_code
    organiser = staff_client(app, world["organiser"])
    response = organiser.post(f"/admin/tugas/{assignment.id}/organisasi/{world['dinas'].id}", data=form)
    assert response.status_code in (200, 302), response.status_code
    response = organiser.post(f"/admin/programs/{world['program'].id}/tugas/baru", data=form)
    assert response.status_code in (200, 302), response.status_code


@FILE_EXAMPLES
@given(content=contents, name=names)
def test_any_file_is_stored_only_when_it_is_a_pdf_docx_or_xlsx(
    app, session, world, files_dir, set_now, content, name
):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _first(session, world)
    before = session.scalar(select(func.count()).select_from(SubmissionRevision))
    stored_before = set(files_dir.iterdir()) if files_dir.exists() else set()
    participant = participant_client(app, session, world["kominfo_1"])
    response = participant.post(
        f"/saya/{world['program'].slug}/tugas/{assignment.id}/berkas",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code in (303, 400), response.status_code
    stored = (set(files_dir.iterdir()) if files_dir.exists() else set()) - stored_before
    session.expire_all()
    after = session.scalar(select(func.count()).select_from(SubmissionRevision))
    if response.status_code == 400:
        assert stored == set() and after == before
    else:
        [path] = stored
        assert filetype.guess(path.read_bytes()).extension in {"pdf", "docx", "xlsx"}
        assert after == before + 1


def _first(session, world):
    return session.scalar(select(Assignment)) or _assignment(session, world)
