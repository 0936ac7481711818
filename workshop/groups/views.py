"""The organiser's group work page of a stage (set up, members, leaders, links), its export, and
the projector's "Presentasi kelompok" (narasumber too)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

from workshop import audit, web
from workshop.auth.permissions import live_staff_required, organiser_required
from workshop.db import db
from workshop.groups import events, exports, queries, services
from workshop.groups.blueprint import bp
from workshop.groups.forms import (
    MODE_LABELS,
    NO_GROUP,
    OUTPUT_HINTS,
    OUTPUT_LABELS,
    GroupForm,
    SetupForm,
    assignment_form,
)
from workshop.groups.models import OUTPUT_FIELDS, GroupMode, StageGroup
from workshop.groups.services import GroupError
from workshop.groups.texts import error_text
from workshop.ids import id_from_text
from workshop.programs.dimensions import DIMENSION_LABELS
from workshop.programs.models import Stage


def labels() -> dict:
    return {
        "dimension_labels": DIMENSION_LABELS,
        "output_fields": OUTPUT_FIELDS,
        "output_labels": OUTPUT_LABELS,
        "output_hints": OUTPUT_HINTS,
        "group_mode_labels": MODE_LABELS,
    }


def _assignment(stage: Stage, groups: list[queries.GroupView]):
    participants = queries.stage_participants(db.session, stage)
    organizations = {r.person.organization_id: r.person.organization for r in participants}
    ordered = sorted(organizations.values(), key=lambda org: org.label)
    choices = [SelectChoice(str(view.group.id), DIMENSION_LABELS[view.group.dimension]) for view in groups]
    form_class = assignment_form([r.id for r in participants], [org.id for org in ordered], choices)
    current = services.members_by_registration(db.session, stage.id)
    data = {f"r{r.id}": str(current.get(r.id, NO_GROUP)) for r in participants}
    form = form_class(data=data if request.method == "GET" or request.endpoint != "groups.assign" else None)
    return form, participants, ordered


def _page(stage: Stage, setup: SetupForm | None = None, status: int = 200, forms: dict | None = None):
    work, groups = queries.stage_groups(db.session, stage.id)
    if setup is None and work is not None:
        data = {
            "dimensions": [view.group.dimension for view in groups],
            "mode": work.mode.value,
            "cap": str(work.cap or ""),
        }
        setup = SetupForm(data=data)
    if setup is None:
        setup = SetupForm()
    group_forms = forms or {}
    for view in groups:
        if view.group.id not in group_forms:
            group_forms[view.group.id] = _group_form(view.group, view.members, fill=True)
    assign, participants, organizations = _assignment(stage, groups)
    return (
        render_template(
            "groups/admin.html",
            stage=stage,
            program=stage.program,
            work=work,
            groups=groups,
            setup=setup,
            group_forms=group_forms,
            assign=assign,
            participants=participants,
            organizations=organizations,
            modes=queries.modes_of(db.session, stage.id),
            **labels(),
        ),
        status,
    )


def _group_form(group: StageGroup, members: list, *, fill: bool) -> GroupForm:
    data = {"leader_id": str(group.leader_id or ""), "meeting_url": group.meeting_url} if fill else None
    form = GroupForm(data=data, prefix=f"g{group.id}")
    form.leader_id.choices = [SelectChoice("", _("No leader yet"))] + [
        SelectChoice(str(member.id), member.person.name) for member in members
    ]
    return form


def _refused(stage: Stage, error: GroupError, setup: SetupForm | None = None):
    """The service refused: nothing of it is kept, the page says why."""
    db.session.rollback()
    flash(error_text(error), "error")
    return _page(stage, setup, 422)


@bp.route("/admin/stages/<int:stage_id>/kelompok")
@organiser_required
def admin(stage_id: int):
    return _page(db.get_or_404(Stage, stage_id))


@bp.route("/admin/stages/<int:stage_id>/kelompok/atur", methods=["POST"])
@organiser_required
def set_up(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            services.set_up(
                db.session,
                stage,
                dimensions=form.dimensions.data or [],
                mode=GroupMode(form.mode.data),
                cap=form.cap_value,
                actor=current_user,
            )
        except GroupError as error:
            return _refused(stage, error, form)
        db.session.commit()
        flash(_("Groups saved."), "success")
        return redirect(url_for("groups.admin", stage_id=stage.id))
    return _page(stage, form, 422)


@bp.route("/admin/kelompok/<int:group_id>", methods=["POST"])
@organiser_required
def edit_group(group_id: int):
    group = db.get_or_404(StageGroup, group_id)
    stage = db.session.get_one(Stage, group.stage_id)
    members = [member.registration for member in group.members]
    form = _group_form(group, members, fill=False)
    if form.validate_on_submit():
        try:
            services.update_group(
                db.session,
                group,
                leader_id=id_from_text(form.leader_id.data),
                meeting_url=form.meeting_url.data or "",
                actor=current_user,
            )
        except GroupError as error:
            return _refused(stage, error)
        db.session.commit()
        flash(_("Group %(group)s saved.", group=DIMENSION_LABELS[group.dimension]), "success")
        return redirect(url_for("groups.admin", stage_id=stage.id, _anchor=f"group-{group.id}"))
    return _page(stage, status=422, forms={group.id: form})


@bp.route("/admin/stages/<int:stage_id>/kelompok/anggota", methods=["POST"])
@organiser_required
def assign(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    _work, groups = queries.stage_groups(db.session, stage.id)
    form, participants, organizations = _assignment(stage, groups)
    if not form.validate_on_submit():
        flash(_("Reload the page and try again."), "error")
        return _page(stage, status=422)
    chosen: dict[int, int | None] = {}
    for registration in participants:
        value = form[f"r{registration.id}"].data
        chosen[registration.id] = None if value == NO_GROUP else int(value)
    for organization in organizations:
        value = form[f"o{organization.id}"].data
        if value:
            for registration in participants:
                if registration.person.organization_id == organization.id:
                    chosen[registration.id] = None if value == NO_GROUP else int(value)
    before = services.members_by_registration(db.session, stage.id)
    try:
        changed = services.assign(db.session, stage, chosen, actor=current_user)
    except GroupError as error:
        return _refused(stage, error)
    db.session.commit()
    events.members_moved(stage.id, before, services.members_by_registration(db.session, stage.id))
    flash(_("%(count)d participants moved.", count=changed), "success")
    return redirect(url_for("groups.admin", stage_id=stage.id, _anchor="members"))


@bp.route("/admin/stages/<int:stage_id>/kelompok/ratakan", methods=["POST"])
@organiser_required
def spread(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    before = services.members_by_registration(db.session, stage.id)
    try:
        changed = services.spread_evenly(db.session, stage, actor=current_user)
    except GroupError as error:
        return _refused(stage, error)
    db.session.commit()
    events.members_moved(stage.id, before, services.members_by_registration(db.session, stage.id))
    flash(_("%(count)d participants moved.", count=changed), "success")
    return redirect(url_for("groups.admin", stage_id=stage.id, _anchor="members"))


@bp.route("/admin/stages/<int:stage_id>/kelompok/hasil.<any(xlsx, csv):extension>")
@organiser_required
def export(stage_id: int, extension: str):
    stage = db.get_or_404(Stage, stage_id)
    _work, groups = queries.stage_groups(db.session, stage.id)
    name = f"kelompok-tahap-{stage.position}"
    if extension == "csv":
        content, mimetype = exports.to_csv(groups), "text/csv"
    else:
        content = exports.to_xlsx(groups)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record_export(db.session, current_user, "groups.export", f"stage:{stage.id}", extension)
    return web.download(content, mimetype, f"{name}.{extension}")


@bp.route("/admin/stages/<int:stage_id>/kelompok/presentasi")
@live_staff_required
def presentation(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    _work, groups = queries.stage_groups(db.session, stage.id)
    return render_template(
        "groups/presentation.html",
        stage=stage,
        program=stage.program,
        groups=groups,
        config={"stage_id": stage.id, "state_url": url_for("groups.stage_state", stage_id=stage.id)},
        **labels(),
    )


@bp.route("/admin/stages/<int:stage_id>/kelompok/state")
@live_staff_required
def stage_state(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    _work, groups = queries.stage_groups(db.session, stage.id)
    outputs = {str(view.group.id): view.output for view in groups}
    version = sum(queries.output_version(output) for output in outputs.values())
    response = jsonify({"version": version, "groups": outputs})
    response.headers["Cache-Control"] = "no-store"
    return response
