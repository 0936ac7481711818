"""Voters' names, positions and agencies leave the system only through organisers, and every such
export is in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from tests import factories, test_live
from tests.test_live import make_poll, open_now, staff_client
from workshop.auth.models import AuditEntry, Role

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock


def test_a_narasumber_runs_polls_but_cannot_export_the_voters(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    narasumber = staff_client(app, world["moderator"])

    control = narasumber.get(f"/live/{world['stage'].id}/control").get_data(as_text=True)

    assert narasumber.get(f"/live/polls/{poll.id}/results.csv").status_code == 403
    assert narasumber.get(f"/live/polls/{poll.id}/results.xlsx").status_code == 403
    assert "results.csv" not in control and "data-export-csv" not in control
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.export")).all() == []


def test_an_organisers_poll_export_is_audited(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    client = staff_client(app, organiser)

    control = client.get(f"/live/{world['stage'].id}/control").get_data(as_text=True)
    assert client.get(f"/live/polls/{poll.id}/results.csv").status_code == 200
    assert client.get(f"/live/polls/{poll.id}/results.xlsx").status_code == 200

    assert f"/live/polls/{poll.id}/results.csv" in control
    entries = session.execute(
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.subject, AuditEntry.detail).order_by(
            AuditEntry.id
        )
    ).all()
    exports = [entry for entry in entries if entry.action == "poll.export"]
    assert exports == [
        (organiser.id, "poll.export", f"poll:{poll.id}", "csv, 0 answers"),
        (organiser.id, "poll.export", f"poll:{poll.id}", "xlsx, 0 answers"),
    ]


def test_badge_sheets_are_audited_too(session, client, login, world):
    petugas = factories.staff(session, Role.PETUGAS)
    session.commit()
    login(petugas)

    sheet = client.get(f"/admin/stages/{world['stage'].id}/badges.pdf")

    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    entry = session.execute(
        select(AuditEntry.actor_id, AuditEntry.subject, AuditEntry.detail).where(
            AuditEntry.action == "badges.export"
        )
    ).one()
    assert tuple(entry) == (
        petugas.id,
        f"stage:{world['stage'].id}",
        "pdf, 1 participants",
    )  # in the hall only
