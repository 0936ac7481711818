"""Tickets: the participant's own QR code (SVG, PNG), and tickets and badges for the staff (PNG, PDF).

A participant reaches only their own ticket: the routes take the programme's slug, never a row id, and
look the registration up by the logged-in person. The ticket secret is a credential for the door, so
responses are `private, no-store`.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Response, abort, current_app
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from workshop import audit, web
from workshop.auth.permissions import door_staff_required, participant_required
from workshop.db import db
from workshop.i18n import stage_label
from workshop.offload import off_the_loop
from workshop.programs.models import Stage
from workshop.registration.models import Registration, Status
from workshop.registration.queries import own_registration_or_404
from workshop.tickets import codes, qr
from workshop.tickets.blueprint import bp


@bp.app_template_filter("ticket_svg")
def _ticket_svg(registration: Registration) -> Markup:
    """The registration's QR code (the participant page shows it on every view)."""
    return _svg_of_sealed(registration.ticket_secret_sealed, current_app.config["SECRET_KEY"])


@lru_cache(maxsize=1024)
def _svg_of_sealed(sealed: str, secret_key: str) -> Markup:
    """Kept per sealed secret, so that a view unseals nothing (a Fernet decryption); a new secret
    is a new sealed value."""
    return qr.svg_markup(codes.unseal(sealed, secret_key))


@bp.app_template_filter("ticket_code")
def _ticket_code(code: str) -> str:
    return codes.format_short_code(code)


def _file(body: bytes | str, mimetype: str, filename: str, *, download: bool) -> Response:
    return web.download(body, mimetype, filename, inline=not download, cache="private, no-store")


def ticket_png(registration: Registration) -> bytes:
    """The QR with the holder's name, programme, stage(s) in the hall and short code under it."""
    from workshop.tickets import badges, image  # Pillow and reportlab with the first ticket drawn

    return image.png(badges.registration_badge(registration))


def _approved_registration(registration_id: int) -> Registration:
    registration = db.get_or_404(Registration, registration_id)
    if registration.status != Status.APPROVED:
        abort(404)  # no ticket to hand out before approval, or after cancellation
    return registration


# Participant


@bp.route("/saya/<slug>/tiket.svg")
@participant_required
def my_ticket_svg(slug: str):
    registration = own_registration_or_404(slug)
    return _file(qr.svg(registration.ticket_secret), "image/svg+xml", f"tiket-{slug}.svg", download=False)


@bp.route("/saya/<slug>/tiket.png")
@participant_required
def my_ticket_png(slug: str):
    registration = own_registration_or_404(slug)
    return _file(ticket_png(registration), "image/png", f"tiket-{slug}.png", download=True)


# Staff at the door and organisers


@bp.route("/admin/registrations/<int:registration_id>/ticket.png")
@door_staff_required
def registration_ticket_png(registration_id: int):
    registration = _approved_registration(registration_id)
    return _file(ticket_png(registration), "image/png", f"tiket-{registration.id}.png", download=True)


@bp.route("/admin/registrations/<int:registration_id>/badge.pdf")
@door_staff_required
def registration_badge_pdf(registration_id: int):
    from workshop.tickets import badges  # reportlab with the first badge drawn, not at start-up

    registration = _approved_registration(registration_id)
    body = badges.render([badges.registration_badge(registration)], title=registration.person.name)
    audit.record_export(
        db.session, current_user, "badges.export", f"registration:{registration.id}", "badge pdf"
    )
    return _file(body, "application/pdf", f"badge-{registration.id}.pdf", download=False)


@bp.route("/admin/stages/<int:stage_id>/badges.pdf")
@door_staff_required
def stage_badges_pdf(stage_id: int):
    """Every card of the stage: built on gevent's thread pool (hundreds of cards take seconds), so
    the scanners at the door go on being answered meanwhile."""
    from workshop.tickets import badges  # reportlab with the first badge drawn, not at start-up

    stage = db.get_or_404(Stage, stage_id)
    cards = badges.stage_badges(db.session, stage)
    body = off_the_loop(
        badges.render,
        cards,
        title=f"{stage.program.title}: {stage_label(stage.number)}",
        empty_message=_(
            "No approved in-person participants for %(stage)s yet.", stage=stage_label(stage.number)
        ),
    )
    audit.record_export(
        db.session, current_user, "badges.export", f"stage:{stage.id}", f"pdf, {len(cards)} participants"
    )
    return _file(body, "application/pdf", f"badges-tahap-{stage.number}.pdf", download=False)
