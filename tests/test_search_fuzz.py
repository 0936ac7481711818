"""The organiser's two text searches (registrations, organisations) with any text a person can
type or paste (hypothesis, on SQLite and PostgreSQL): never a server error; the text is matched as
letters (``%``, ``_`` and ``\\`` too), so the row holding it is found and a row not holding it is
not."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests import factories
from workshop.auth.models import Role
from workshop.programs.models import Organization, OrgKind
from workshop.registration.models import Status
from workshop.text import clean_line

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What people type and paste: letters, the LIKE wildcards and escape, quotes and markup, control
# characters, and letters that SQLite's LIKE does not fold (matched exactly, never wrongly).
typed = st.text(
    alphabet=st.sampled_from(
        string.ascii_letters + string.digits + " %_\\'\"<>&.-/\x00\x01\x1f\x7f\t\néÜ\u200b"
    ),
    max_size=40,
)
DECOY_NAME, DECOY_ORGANIZATION = "Rina Lubis", "Dinas Kominfo"


def _matches(query: str, *texts: str) -> bool:
    return any(query.lower() in text.lower() for text in texts)


@pytest.fixture
def world(session, login):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=1)
    decoy_organization = factories.organization(session, name=DECOY_ORGANIZATION)
    factories.registration(session, program, status=Status.APPROVED, name=DECOY_NAME, org=decoy_organization)
    session.commit()
    return program


@EXAMPLES
@given(text=typed)
@example(text="%")
@example(text="i_a")
@example(text="\\")
def test_the_registration_search_finds_exactly_the_rows_holding_the_text(session, client, world, text):
    query = clean_line(text)
    office = factories.organization(session, name="Kantor Camat Siatas Barita")
    found = factories.registration(session, world, name=f"Nama {query}", org=office)
    session.commit()
    try:
        page = client.get(f"/admin/programs/{world.id}/registrations", query_string={"q": text})
        html = page.get_data(as_text=True)

        assert page.status_code == 200, html[:500]
        assert str(escape(found.person.name)) in html
        assert (DECOY_NAME in html) == _matches(query, DECOY_NAME, DECOY_ORGANIZATION)
    finally:
        session.delete(found)
        session.delete(found.person)
        session.delete(office)
        session.commit()


@EXAMPLES
@given(text=typed)
@example(text="%")
@example(text="i_a")
@example(text="\\")
def test_the_organisation_search_finds_exactly_the_rows_holding_the_text(session, client, world, text):
    query = clean_line(text)
    office = Organization(kind=OrgKind.KECAMATAN, name=f"Kantor {query}")
    session.add(office)
    session.commit()
    try:
        page = client.get("/admin/organizations", query_string={"q": text})
        html = page.get_data(as_text=True)

        assert page.status_code == 200, html[:500]
        assert str(escape(office.name)) in html
        assert (DECOY_ORGANIZATION in html) == _matches(query, DECOY_ORGANIZATION)
    finally:
        session.delete(office)
        session.commit()
