from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

from workshop import clock, signals
from workshop.auth.permissions import organiser_required, staff_required
from workshop.db import db
from workshop.forms import add_error
from workshop.ids import id_from_text
from workshop.programs import services
from workshop.programs.blueprint import bp
from workshop.programs.forms import (
    ORG_KIND_LABELS,
    AgendaItemForm,
    OrganizationForm,
    ProgramForm,
    StageForm,
    as_local_naive,
    from_local_naive,
)
from workshop.programs.models import (
    DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES,
    MAX_CHECK_IN_OPENS_BEFORE_MINUTES,
    AgendaItem,
    Organization,
    OrgKind,
    Program,
    Stage,
)
from workshop.programs.queries import organizations_query
from workshop.text import clean_line

ORGANIZATIONS_PER_PAGE = 50

ERRORS = {
    "slug_taken": _l("This short name is already used by another programme."),
    "ends_before_start": _l("The end must be after the start."),
    "negative_capacity": _l("Must be zero or more."),
    "check_in_opening_out_of_range": _l(
        "Between %(min)s and %(max)s minutes.", min=0, max=MAX_CHECK_IN_OPENS_BEFORE_MINUTES
    ),
    "agenda_outside_stage": _l("The time must fall within the stage."),
    "desa_needs_kecamatan": _l("A village belongs to a sub-district: choose one."),
    "parent_must_be_kecamatan": _l("Only a village has a sub-district."),
    "code_taken": _l("This code is already used by another organisation."),
}


def _field_error(form, error: services.ProgramError) -> None:
    assert error.field is not None  # the programme services name the field of every refusal
    add_error(getattr(form, error.field), str(ERRORS[error.code]))


@bp.route("/")
@staff_required
def index():
    programs = db.session.scalars(select(Program).order_by(Program.created_at.desc())).all()
    return render_template("programs/index.html", programs=programs)


@bp.route("/programs/new", methods=["GET", "POST"])
@organiser_required
def new_program():
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            program = services.create_program(db.session, actor=current_user, **_program_fields(form))
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Programme created. Now add its stages."), "success")
            return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/program_form.html", form=form, program=None)


@bp.route("/programs/<int:program_id>")
@organiser_required
def detail(program_id: int):
    program = db.get_or_404(Program, program_id)
    return render_template("programs/detail.html", program=program, agenda_form=AgendaItemForm())


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_program(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = ProgramForm(obj=program)
    if form.validate_on_submit():
        try:
            services.update_program(db.session, program, actor=current_user, **_program_fields(form))
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Programme saved."), "success")
            return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/program_form.html", form=form, program=program)


def _program_fields(form: ProgramForm) -> dict:
    return {
        "title": form.title.data,
        "slug": form.slug.data,
        "organiser": form.organiser.data,
        "description": form.description.data,
        "timezone": form.timezone.data,
        "registration_open": form.registration_open.data,
    }


@bp.route("/programs/<int:program_id>/stages/new", methods=["GET", "POST"])
@organiser_required
def new_stage(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = StageForm()
    if form.validate_on_submit():
        try:
            services.add_stage(db.session, program, _stage_details(form, program), actor=current_user)
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Stage added."), "success")
            return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/stage_form.html", form=form, program=program, stage=None)


@bp.route("/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_stage(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    program = stage.program
    form = StageForm(obj=stage)
    if request.method == "GET":
        form.starts_at.data = as_local_naive(stage.starts_at, program.timezone)
        form.ends_at.data = as_local_naive(stage.ends_at, program.timezone)
    if form.validate_on_submit():
        previous_start = stage.starts_at
        try:
            services.update_stage(db.session, stage, _stage_details(form, program), actor=current_user)
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            signals.stage_saved.send(
                current_app._get_current_object(),  # type: ignore[attr-defined]  # a LocalProxy
                session=db.session,
                stage=stage,
                previous_start=previous_start,
                now=clock.now(),
            )
            db.session.commit()
            flash(_("Stage saved."), "success")
            return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/stage_form.html", form=form, program=program, stage=stage)


def _stage_details(form: StageForm, program: Program) -> services.StageDetails:
    assert form.starts_at.data is not None and form.ends_at.data is not None  # required fields
    return services.StageDetails(
        title=form.title.data or "",
        starts_at=from_local_naive(form.starts_at.data, program.timezone),
        ends_at=from_local_naive(form.ends_at.data, program.timezone),
        venue_name=form.venue_name.data or "",
        venue_address=form.venue_address.data or "",
        capacity=form.capacity.data,
        meeting_provider=form.meeting_provider.data or "",
        meeting_url=form.meeting_url.data or "",
        meeting_id=form.meeting_id.data or "",
        meeting_passcode=form.meeting_passcode.data or "",
        check_in_opens_before_minutes=DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES
        if form.check_in_opens_before_minutes.data is None
        else form.check_in_opens_before_minutes.data,
    )


@bp.route("/stages/<int:stage_id>/move", methods=["POST"])
@organiser_required
def move_stage(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    services.move_stage(db.session, stage, offset, actor=current_user)
    db.session.commit()
    return redirect(url_for("programs.detail", program_id=stage.program_id))


@bp.route("/stages/<int:stage_id>/agenda", methods=["POST"])
@organiser_required
def add_agenda_item(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = AgendaItemForm()
    if form.validate_on_submit():
        assert form.starts_at.data is not None  # a required field
        try:
            services.add_agenda_item(
                db.session,
                stage,
                starts_at=from_local_naive(form.starts_at.data, stage.program.timezone),
                title=form.title.data or "",
                speaker=form.speaker.data or "",
                actor=current_user,
            )
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Agenda item added."), "success")
            return redirect(url_for("programs.detail", program_id=stage.program_id))
    return render_template(
        "programs/detail.html", program=stage.program, agenda_form=form, agenda_stage_id=stage.id
    ), 400


@bp.route("/agenda/<int:item_id>/delete", methods=["POST"])
@organiser_required
def delete_agenda_item(item_id: int):
    item = db.get_or_404(AgendaItem, item_id)
    program_id = item.stage.program_id
    services.delete_agenda_item(db.session, item, actor=current_user)
    db.session.commit()
    return redirect(url_for("programs.detail", program_id=program_id))


@bp.route("/organizations")
@organiser_required
def organizations():
    kind = request.args.get("kind", "")
    query_text = clean_line(request.args.get("q"))[:100]
    chosen_kind = OrgKind(kind) if kind in {k.value for k in OrgKind} else None
    organizations = db.paginate(
        organizations_query(chosen_kind, query_text),
        page=id_from_text(request.args.get("page")) or 1,
        per_page=ORGANIZATIONS_PER_PAGE,
        error_out=False,
    )
    return render_template(
        "programs/organizations.html",
        organizations=organizations,
        kind=kind,
        q=query_text,
        kind_labels=ORG_KIND_LABELS,
    )


@bp.route("/organizations/new", methods=["GET", "POST"])
@bp.route("/organizations/<int:organization_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_organization(organization_id: int | None = None):
    organization = db.get_or_404(Organization, organization_id) if organization_id else None
    form = OrganizationForm(obj=organization)
    if request.method == "GET" and organization is not None:
        form.parent_id.data = organization.parent_id or 0
    kecamatan = db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.KECAMATAN).order_by(Organization.name)
    ).all()
    form.parent_id.choices = [SelectChoice(0, "-")] + [SelectChoice(k.id, k.name) for k in kecamatan]
    if form.validate_on_submit():
        try:
            services.save_organization(
                db.session,
                organization,
                kind=OrgKind(form.kind.data),
                name=form.name.data or "",
                code=form.code.data or None,
                parent_id=form.parent_id.data or None,
                actor=current_user,
            )
        except services.ProgramError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Organisation saved."), "success")
            return redirect(url_for("programs.organizations"))
    return render_template("programs/organization_form.html", form=form, organization=organization)
