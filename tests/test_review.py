import re

import pytest
from sqlalchemy import select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status


@pytest.fixture
def roster(session, login):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=2)
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    sipoholon = factories.organization(session, kind=OrgKind.KECAMATAN, name="Sipoholon")
    people = {
        "camat": factories.registration(
            session, program, name="Camat Tarutung", org=tarutung, mode=Mode.DARING
        ),
        "kades": factories.registration(
            session,
            program,
            name="Kades Hutatoruan",
            org=factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung),
            mode=Mode.DARING,
            status=Status.APPROVED,
        ),
        "kades2": factories.registration(
            session,
            program,
            name="Kades Situmeang",
            org=factories.organization(
                session, kind=OrgKind.DESA, name="Situmeang Habinsaran", parent=sipoholon
            ),
            mode=Mode.DARING,
        ),
        "opd": factories.registration(
            session,
            program,
            name="Kadis Kominfo",
            org=factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo"),
        ),
    }
    session.commit()
    return program, people, {"tarutung": tarutung, "sipoholon": sipoholon}


def _listed(client, program, **filters) -> list[str]:
    page = client.get(f"/admin/programs/{program.id}/registrations", query_string=filters).get_data(
        as_text=True
    )
    return re.findall(r'/admin/registrations/\d+">([^<]+)</a>', page)


def test_filters_by_kind_kecamatan_mode_status_and_text(client, roster):
    program, _, districts = roster

    assert _listed(client, program) == [
        "Camat Tarutung",
        "Kades Hutatoruan",
        "Kades Situmeang",
        "Kadis Kominfo",
    ]
    assert _listed(client, program, kind="desa") == ["Kades Hutatoruan", "Kades Situmeang"]
    assert _listed(client, program, kecamatan=districts["tarutung"].id) == [
        "Camat Tarutung",
        "Kades Hutatoruan",
    ]
    assert _listed(client, program, mode="luring") == ["Kadis Kominfo"]
    assert _listed(client, program, status="approved") == ["Kades Hutatoruan"]
    assert _listed(client, program, q="kominfo") == ["Kadis Kominfo"]
    assert _listed(client, program, kind="desa", kecamatan=districts["sipoholon"].id) == ["Kades Situmeang"]
    assert _listed(client, program, status="nonsense") == _listed(client, program)


def test_bulk_reject_then_cancel_changes_exactly_the_ticked_rows(session, client, roster):
    program, people, _ = roster

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "reject", "ids": [people["camat"].id, people["opd"].id]},
    )

    assert response.status_code == 302
    session.expire_all()
    assert {name: reg.status for name, reg in people.items()} == {
        "camat": Status.REJECTED,
        "kades": Status.APPROVED,
        "kades2": Status.PENDING,
        "opd": Status.REJECTED,
    }
    assert (
        len(session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.status")).all()) == 2
    )


def test_ids_of_another_programme_are_refused_whole(session, client, roster):
    program, people, _ = roster
    other = factories.registration(session, factories.program(session, stages=1))
    session.commit()

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "approve", "ids": [people["camat"].id, other.id]},
    )

    assert response.status_code == 404
    session.expire_all()
    assert (people["camat"].status, other.status) == (Status.PENDING, Status.PENDING)


def test_organiser_copies_regenerates_and_revokes_a_personal_link(app, session, client, roster):
    _, people, _ = roster
    registration = people["kades"]
    registration.link_nonce = None
    links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    first = links.token_for(registration, app.config["SECRET_KEY"])

    page = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    client.post(f"/admin/registrations/{registration.id}/link", data={"action": "regenerate"})
    session.refresh(registration)
    second = links.token_for(registration, app.config["SECRET_KEY"])
    client.post(f"/admin/registrations/{registration.id}/link", data={"action": "revoke"})
    session.refresh(registration)

    assert f'value="http://bimtek.test/p/{first}"' in page
    assert second != first
    assert registration.link_token_hash is None
    assert links.token_for(registration, app.config["SECRET_KEY"]) is None
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("link.%"))).all() == [
        "link.regenerate",
        "link.revoke",
    ]
