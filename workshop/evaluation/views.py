"""Evaluation pages: the participant fills in a stage's evaluation (a plain form: no script, no
socket); the organiser sets the questionnaire up and reads the results, per stage and across
stages, with the XLSX and CSV exports."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop import audit, clock, i18n, web
from workshop.auth.permissions import organiser_required, participant_required
from workshop.db import db
from workshop.evaluation import exports, queries, services
from workshop.evaluation.blueprint import bp
from workshop.evaluation.forms import (
    KIND_LABELS,
    SCALE_LABELS,
    DeadlineForm,
    ItemForm,
    field_name,
    response_form,
)
from workshop.evaluation.models import EvaluationResponse, ItemKind, Questionnaire, QuestionnaireItem
from workshop.forms import add_error
from workshop.programs import facts
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration
from workshop.registration.queries import PageRegistration, own_registration_or_404

ERRORS = {
    "not_registered": _l("You are not registered for this stage."),
    "not_open_yet": _l("The evaluation of this stage is not open yet."),
    "closed": _l("The evaluation of this stage has closed: answers can no longer be saved."),
    "invalid_answers": _l("Some answers need your attention: see the questions marked below."),
    "too_few_options": _l("Give at least two options, one per line."),
    "too_many_options": _l("Give at most 10 options."),
    "option_too_long": _l("An option can be at most 100 characters long."),
    "option_in_use": _l("An option that participants already chose cannot be taken out."),
    "prompt_required": _l("Write the question."),
    "prompt_too_long": _l("The question can be at most 300 characters long."),
    "item_answered": _l("This question has answers already, so it cannot be removed."),
    "bad_deadline": _l("From 0 to 90 days."),
}
PROBLEMS = {
    "required": _l("Please answer this question."),
    "bad_rating": _l("Choose a rating from 1 to 5."),
    "bad_choice": _l("Choose one of the options."),
    "too_long": _l("At most 2,000 characters."),
}


def _locale() -> str:
    return str(get_locale() or "id")


@bp.app_context_processor
def _evaluation_helpers():
    return {"evaluation_invitations": evaluation_invitations}


def evaluation_invitations(registration: Registration | PageRegistration, stages) -> list[dict]:
    """What the participant page shows for the evaluation: each stage whose evaluation is open now
    (with whether it was saved already, and until when it can be changed)."""
    deadline_days = facts.of(registration.program, queries.deadline_days_of)
    if deadline_days is None:
        return []
    now = clock.now()
    windows = [(stage, services.window(stage, deadline_days)) for stage in stages]
    open_now = [(stage, window) for stage, window in windows if window.phase(now) == "open"]
    if not open_now:
        return []
    saved = queries.responded_stage_ids(db.session, registration.id)
    return [
        {"stage": stage, "saved": stage.id in saved, "closes_at": window.closes_at}
        for stage, window in open_now
    ]


# --- The participant ---------------------------------------------------------------------------


@bp.route("/saya/<slug>/evaluasi/<int:stage_id>", methods=["GET", "POST"])
@participant_required
def participant_form(slug: str, stage_id: int):
    registration = own_registration_or_404(slug)
    program = registration.program
    stage = db.get_or_404(Stage, stage_id)
    questionnaire = services.questionnaire_of(db.session, program)
    if stage.program_id != program.id or questionnaire is None or not questionnaire.items:
        abort(404)
    now = clock.now()
    window = services.window(stage, questionnaire.deadline_days)
    response = services.response_of(db.session, registration, stage)
    form = response_form(questionnaire, data=_saved_answers(response) if request.method == "GET" else None)
    # A refused answer (or an expired form) shows the page again, as typed, with the reasons.
    if form.validate_on_submit():
        raw = {item.id: form[field_name(item.id)].data or "" for item in questionnaire.items}
        try:
            services.submit(db.session, questionnaire, registration, stage, raw, now=now)
        except services.EvaluationError as error:
            db.session.rollback()
            flash(str(ERRORS[error.code]), "danger")
            for item_id, problem in error.problems.items():
                form[field_name(item_id)].errors = [str(PROBLEMS[problem])]
        else:
            db.session.commit()
            flash(_("Thank you: your evaluation is saved."), "success")
            return redirect(url_for("evaluation.participant_form", slug=slug, stage_id=stage.id))
    return render_template(
        "evaluation/participant_form.html",
        program=program,
        registration=registration,
        stage=stage,
        questionnaire=questionnaire,
        form=form,
        field_name=field_name,
        response=response,
        phase=window.phase(now),
        window=window,
        scale_labels=SCALE_LABELS,
    )


def _saved_answers(response: EvaluationResponse | None) -> dict[str, str]:
    if response is None:
        return {}
    return {
        field_name(answer.item_id): str(answer.rating) if answer.rating is not None else answer.text
        for answer in response.answers
    }


# --- The organiser: the questionnaire ----------------------------------------------------------


@bp.route("/admin/programs/<int:program_id>/evaluasi")
@organiser_required
def questionnaire(program_id: int):
    program = db.get_or_404(Program, program_id)
    found = services.questionnaire_of(db.session, program)
    return _questionnaire_page(program, found, ItemForm(formdata=None), _deadline_form(found))


def _deadline_form(found: Questionnaire | None, formdata=None) -> DeadlineForm:
    form = DeadlineForm(formdata=formdata)
    if formdata is None and found is not None:
        form.deadline_days.data = found.deadline_days
    return form


def _questionnaire_page(program, found, item_form, deadline_form):
    windows = {}
    if found is not None:
        windows = {stage.id: services.window(stage, found.deadline_days) for stage in program.stages}
    return render_template(
        "evaluation/questionnaire.html",
        program=program,
        questionnaire=found,
        item_form=item_form,
        deadline_form=deadline_form,
        kind_labels=KIND_LABELS,
        windows=windows,
        now=clock.now(),
    )


@bp.route("/admin/programs/<int:program_id>/evaluasi/default", methods=["POST"])
@organiser_required
def create_default(program_id: int):
    program = db.get_or_404(Program, program_id)
    services.create_default(db.session, program, actor=current_user, now=clock.now())
    db.session.commit()
    flash(_("The evaluation questionnaire is ready, with a reminder when each stage ends."), "success")
    return redirect(url_for("evaluation.questionnaire", program_id=program.id))


def _own_questionnaire(program: Program) -> Questionnaire:
    found = services.questionnaire_of(db.session, program)
    if found is None:
        abort(404)
    return found


def _item_values(form: ItemForm) -> dict:
    return {
        "prompt": form.prompt.data,
        "options": form.option_list,
        "required": form.required.data,
        "actor": current_user,
        "now": clock.now(),
    }


@bp.route("/admin/programs/<int:program_id>/evaluasi/items", methods=["POST"])
@organiser_required
def add_item(program_id: int):
    program = db.get_or_404(Program, program_id)
    found = _own_questionnaire(program)
    form = ItemForm()
    if form.validate_on_submit():
        try:
            services.add_item(db.session, found, kind=ItemKind(form.kind.data), **_item_values(form))
        except services.EvaluationError as error:
            db.session.rollback()
            add_error(getattr(form, error.field or "prompt"), str(ERRORS[error.code]))
        else:
            db.session.commit()
            flash(_("Question added."), "success")
            return redirect(url_for("evaluation.questionnaire", program_id=program.id))
    return _questionnaire_page(program, found, form, _deadline_form(found))


@bp.route("/admin/evaluasi/items/<int:item_id>", methods=["GET", "POST"])
@organiser_required
def edit_item(item_id: int):
    item = db.get_or_404(QuestionnaireItem, item_id)
    program = item.questionnaire.program
    form = ItemForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.prompt.data = item.prompt
        form.options.data = "\n".join(item.options)
        form.required.data = item.required
    elif form.validate_on_submit():
        try:
            services.update_item(db.session, item, **_item_values(form))
        except services.EvaluationError as error:
            db.session.rollback()
            item = db.session.get_one(QuestionnaireItem, item_id)
            add_error(getattr(form, error.field or "prompt"), str(ERRORS[error.code]))
        else:
            db.session.commit()
            flash(_("Question saved."), "success")
            return redirect(url_for("evaluation.questionnaire", program_id=program.id))
    return render_template(
        "evaluation/item_form.html", program=program, item=item, form=form, kind_labels=KIND_LABELS
    )


@bp.route("/admin/evaluasi/items/<int:item_id>/hapus", methods=["POST"])
@organiser_required
def remove_item(item_id: int):
    item = db.get_or_404(QuestionnaireItem, item_id)
    program_id = item.questionnaire.program_id
    try:
        services.remove_item(db.session, item, actor=current_user, now=clock.now())
    except services.EvaluationError as error:
        db.session.rollback()
        flash(str(ERRORS[error.code]), "danger")
    else:
        db.session.commit()
        flash(_("Question removed."), "success")
    return redirect(url_for("evaluation.questionnaire", program_id=program_id))


@bp.route("/admin/programs/<int:program_id>/evaluasi/tenggat", methods=["POST"])
@organiser_required
def set_deadline(program_id: int):
    program = db.get_or_404(Program, program_id)
    found = _own_questionnaire(program)
    form = _deadline_form(found, request.form)
    if form.validate_on_submit():
        days = form.deadline_days.data
        assert days is not None  # InputRequired
        services.set_deadline(db.session, found, days, actor=current_user, now=clock.now())
        db.session.commit()
        flash(_("Deadline saved."), "success")
        return redirect(url_for("evaluation.questionnaire", program_id=program.id))
    return _questionnaire_page(program, found, ItemForm(formdata=None), form)


# --- The organiser: results and exports --------------------------------------------------------


def _results_for(program: Program):
    """The questionnaire, the stages asked for (?tahap=<stage id>, else all) and their results."""
    found = _own_questionnaire(program)
    stage_id = request.args.get("tahap", type=int)
    if stage_id is not None:
        stages = [stage for stage in program.stages if stage.id == stage_id]
        if not stages:
            abort(404)
    else:
        stages = list(program.stages)
    return found, stages, queries.results(db.session, found, stages)


@bp.route("/admin/programs/<int:program_id>/evaluasi/hasil")
@organiser_required
def results(program_id: int):
    program = db.get_or_404(Program, program_id)
    found, stages, summary = _results_for(program)
    return render_template(
        "evaluation/results.html",
        program=program,
        questionnaire=found,
        stage=stages[0] if len(stages) == 1 and request.args.get("tahap") else None,
        results=summary,
        mode_labels=exports.MODE_LABELS,
        kind_labels=ORG_KIND_LABELS,
        scale_labels=SCALE_LABELS,
        average=lambda mean: exports.average_text(mean, _locale()),
        empty_tally=queries.Tally(),
    )


def _export_name(program: Program, stage: Stage | None, extension: str) -> str:
    part = f"tahap-{stage.number}" if stage is not None else "semua-tahap"
    return f"evaluasi-{program.slug}-{part}.{extension}"


@bp.route("/admin/programs/<int:program_id>/evaluasi/hasil.xlsx")
@organiser_required
def results_xlsx(program_id: int):
    program = db.get_or_404(Program, program_id)
    _found, stages, summary = _results_for(program)
    stage = stages[0] if request.args.get("tahap") else None
    title = (
        program.title if stage is None else f"{program.title}: {i18n.stage_label(stage.number, _locale())}"
    )
    body = exports.to_xlsx(summary, title=title, timezone=program.timezone, locale=_locale())
    audit.record_export(db.session, current_user, "evaluation.export", f"program:{program.id}", "xlsx")
    return web.download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _export_name(program, stage, "xlsx"),
    )


@bp.route("/admin/programs/<int:program_id>/evaluasi/hasil.csv")
@organiser_required
def results_csv(program_id: int):
    program = db.get_or_404(Program, program_id)
    _found, stages, summary = _results_for(program)
    stage = stages[0] if request.args.get("tahap") else None
    body = exports.to_csv(summary, timezone=program.timezone, locale=_locale())
    audit.record_export(db.session, current_user, "evaluation.export", f"program:{program.id}", "csv")
    return web.download(body, "text/csv", _export_name(program, stage, "csv"))
