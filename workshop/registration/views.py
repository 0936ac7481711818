"""The participant's side of registration: the public registration form, and a participant's own
pages (their programmes, the programme page, its calendar). The organiser's side is in
review_views.py, on the same blueprint."""

from __future__ import annotations

from flask import (
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workshop import clock, web
from workshop.auth.permissions import participant_required
from workshop.db import db
from workshop.extensions import limiter
from workshop.forms import add_error
from workshop.programs import schedule
from workshop.programs.models import Organization, Program
from workshop.programs.queries import organization_by_label
from workshop.registration import calendar, services
from workshop.registration.blueprint import bp
from workshop.registration.forms import registration_form_for
from workshop.registration.models import Mode, Registration, Status
from workshop.registration.queries import (
    own_page_registration_or_404,
    own_registration_or_404,
)
from workshop.registration.validation import normalise_name, normalise_phone

ERRORS = {
    "unknown_organization": _l("Choose an organisation from the list."),
    "already_registered": _l("This WhatsApp number is already registered for this programme."),
    "mode_required": _l("Choose how you will attend each stage."),
}


# Public registration


def _organization_labels() -> list[str]:
    organizations = db.session.scalars(
        select(Organization)
        .options(joinedload(Organization.parent))
        .order_by(Organization.kind, Organization.name)
    ).all()
    return [organization.label for organization in organizations]


def _too_many_registrations() -> str:
    return _("Too many registrations were sent in a short time. Please try again later.")


@bp.route("/daftar/<slug>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTRATION_RATE_LIMIT"],
    methods=["POST"],
    error_message=_too_many_registrations,
)
@limiter.limit(
    lambda: current_app.config["REGISTRATION_PROGRAM_RATE_LIMIT"],
    key_func=lambda: "register:" + (request.view_args or {}).get("slug", ""),
    methods=["POST"],
    error_message=_too_many_registrations,
)
def register(slug: str):
    program = db.first_or_404(select(Program).where(Program.slug == slug))
    if not program.registration_open:
        return render_template("registration/closed.html", program=program), 403
    form = registration_form_for(program)
    if form.validate_on_submit():
        organization = organization_by_label(db.session, form.organization.data or "")
        if organization is None:
            add_error(form.organization, str(ERRORS["unknown_organization"]))
        else:
            details = services.ParticipantDetails(
                name=normalise_name(form.name.data or ""),
                position=normalise_name(form.position.data or ""),
                organization_id=organization.id,
                phone=normalise_phone(form.phone.data or "") or "",  # the form checked it
                email=(form.email.data or "").lower(),
                modes={int(f.name.removeprefix("mode_")): Mode(f.data) for f in form.mode_fields()},
                locale=str(get_locale()),
            )
            try:
                services.register(db.session, program, details)
            except services.RegistrationError as error:
                add_error(getattr(form, error.field or "name"), str(ERRORS[error.code]))
            else:
                db.session.commit()
                return redirect(url_for("registration.registered", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "registration/register.html", program=program, form=form, organizations=_organization_labels()
    ), status


@bp.route("/daftar/<slug>/terkirim")
def registered(slug: str):
    program = db.first_or_404(select(Program).where(Program.slug == slug))
    return render_template("registration/registered.html", program=program)


# Participant


def _my_registrations() -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.person_id == current_user.person_id, Registration.status == Status.APPROVED)
            .order_by(Registration.created_at)
        )
    )


@bp.route("/saya")
@participant_required
def my_programs():
    registrations = _my_registrations()
    if len(registrations) == 1:
        return redirect(url_for("registration.participant_page", slug=registrations[0].program.slug))
    return render_template("registration/my_programs.html", registrations=registrations)


@bp.route("/saya/<slug>")
@participant_required
def participant_page(slug: str):
    registration, modes = own_page_registration_or_404(slug)
    program = registration.program
    stages = current_app.extensions["schedule"].stage_views(db.session, program, str(get_locale()))
    now = clock.now()
    current = schedule.stage_for_now(stages, now)
    others = [stage for stage in stages if stage is not current]
    return render_template(
        "registration/participant.html",
        registration=registration,
        program=program,
        stages=stages,
        current=current,
        stages_in_order=[current, *others] if current else others,  # the stage for now first
        phases={stage.id: schedule.stage_phase(stage, now) for stage in stages},
        modes=modes,
        notices=services.notices_for(db.session, registration.id) if registration.has_notices else [],
    )


@bp.route("/saya/<slug>/jadwal.ics")
@participant_required
def participant_calendar(slug: str):
    registration = own_registration_or_404(slug)
    page_url = calendar.page_url(registration, current_app.config)
    body = calendar.calendar_for(registration, page_url, str(get_locale()))
    return web.download(body, "text/calendar", f"{slug}.ics")
