"""The laporan's pages: the organiser's page of a programme (texts, photos per stage, downloads),
a photo, and the laporan itself as DOCX or PDF, of the whole programme or of one stage
(?tahap=<stage id>)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop import audit, clock, i18n, uploads, web
from workshop.auth.permissions import organiser_required
from workshop.db import db
from workshop.ids import id_from_text
from workshop.laporan import document, queries, services
from workshop.laporan.blocks import Document
from workshop.laporan.blueprint import bp
from workshop.laporan.forms import PHOTO_MEGAPIXELS, PHOTO_SIZE_TEXT, ActionForm, PhotoForm, TextsForm
from workshop.laporan.models import ReportPhoto
from workshop.offload import off_the_loop
from workshop.programs.models import Program, Stage

ERRORS = {
    "not_an_image": _l("This file is not a PNG or JPEG picture (or it is damaged). Nothing was saved."),
    "too_many_pixels": _l(
        "The picture has too many pixels: at most %(num)d megapixels. Nothing was saved.",
        num=PHOTO_MEGAPIXELS,
    ),
    "too_large": _l("The photo is too large: at most %(size)s.", size=PHOTO_SIZE_TEXT),
    "too_many_photos": _l(
        "A stage has at most %(num)d photos: delete one first.", num=services.PHOTOS_PER_STAGE
    ),
}
MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _renderer(kind: str) -> Callable[[Document], bytes]:
    """The writer of a format, loaded by its first download: python-docx (with lxml) and
    reportlab's platypus stay out of the web processes that never make a laporan (issue 15)."""
    if kind == "docx":
        from workshop.laporan import word

        return word.render
    from workshop.laporan import pdf

    return pdf.render


def _page(program: Program, texts_form=None, photo_forms=None, status: int = 200):
    """The organiser's page; a refused form is shown again as typed, with its reasons (200, as the
    evaluation's forms: the browser logs no error), a body over the upload limit with 413."""
    texts = services.texts_of(db.session, program)
    if texts_form is None:
        texts_form = TextsForm(
            formdata=None,
            data={
                "basis": texts.basis,
                "purpose": texts.purpose,
                "summary": texts.summary,
                "closing": texts.closing,
            },
        )
    photo_forms = photo_forms or {}
    photos = queries.photos_of(db.session, [stage.id for stage in program.stages])
    return (
        render_template(
            "laporan/index.html",
            program=program,
            texts_form=texts_form,
            photo_forms={
                stage.id: photo_forms.get(stage.id) or _photo_form(stage, formdata=None)
                for stage in program.stages
            },
            photos={
                stage.id: [photo for photo in photos if photo.stage_id == stage.id]
                for stage in program.stages
            },
            per_stage=services.PHOTOS_PER_STAGE,
            photo_limits={"size": PHOTO_SIZE_TEXT, "num": PHOTO_MEGAPIXELS},
            action_form=ActionForm(formdata=None),
        ),
        status,
    )


def _photo_form(stage: Stage, **kwargs) -> PhotoForm:
    """Each stage's form has its own field names (and ids on the page)."""
    return PhotoForm(prefix=f"stage{stage.id}", **kwargs)


@bp.route("/admin/programs/<int:program_id>/laporan")
@organiser_required
def index(program_id: int):
    return _page(db.get_or_404(Program, program_id))


@bp.route("/admin/programs/<int:program_id>/laporan/texts", methods=["POST"])
@organiser_required
def save_texts(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = TextsForm()
    if not form.validate_on_submit():
        return _page(program, texts_form=form)
    services.save_texts(
        db.session,
        program,
        basis=form.basis.data or "",
        purpose=form.purpose.data or "",
        summary=form.summary.data or "",
        closing=form.closing.data or "",
        actor=current_user,
        now=clock.now(),
    )
    db.session.commit()
    flash(_("The texts of the report are saved."), "success")
    return redirect(url_for("laporan.index", program_id=program.id))


@bp.route("/admin/stages/<int:stage_id>/laporan/photos", methods=["POST"])
@organiser_required
@uploads.upload_view
def upload_photo(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    program = stage.program
    try:
        uploads.accept(services.PHOTO_MAX_BYTES)
    except uploads.UploadError as error:
        form = _photo_form(stage, formdata=None)
        form.photo.errors = [error.message]
        return _page(program, photo_forms={stage.id: form}, status=error.status)
    form = _photo_form(stage)
    if not form.validate_on_submit():
        return _page(program, photo_forms={stage.id: form})
    content = form.photo.data.read()
    uploads.end_reading()
    stage = db.session.get_one(Stage, stage_id)
    try:
        services.add_photo(
            db.session, stage, content, form.caption.data or "", actor=current_user, now=clock.now()
        )
    except services.LaporanError as error:
        db.session.rollback()
        form.photo.errors = [str(ERRORS[error.code])]
        return _page(stage.program, photo_forms={stage.id: form})
    db.session.commit()
    flash(_("The photo is added to %(stage)s.", stage=i18n.stage_label(stage.number)), "success")
    return redirect(url_for("laporan.index", program_id=stage.program_id, _anchor=f"photos-{stage.id}"), 303)


@bp.route("/admin/laporan/photos/<int:photo_id>")
@organiser_required
def photo(photo_id: int):
    found = db.get_or_404(ReportPhoto, photo_id)
    extension = "png" if found.content_type == "image/png" else "jpg"
    return web.download(found.content, found.content_type, f"foto-{found.id}.{extension}", inline=True)


@bp.route("/admin/laporan/photos/<int:photo_id>/delete", methods=["POST"])
@organiser_required
def delete_photo(photo_id: int):
    found = db.get_or_404(ReportPhoto, photo_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    program_id = db.session.get_one(Stage, found.stage_id).program_id
    services.delete_photo(db.session, found, actor=current_user)
    db.session.commit()
    flash(_("The photo is deleted."), "success")
    return redirect(url_for("laporan.index", program_id=program_id))


@bp.route("/admin/programs/<int:program_id>/laporan.<any(docx, pdf):kind>")
@organiser_required
def download(program_id: int, kind: str):
    program = db.get_or_404(Program, program_id)
    stage = None
    if "tahap" in request.args:
        stage_id = id_from_text(request.args["tahap"])
        stage = next((each for each in program.stages if each.id == stage_id), None)
        if stage is None:
            abort(404)
    facts = queries.facts(db.session, program, stage, now=clock.now())
    built = document.build(facts, i18n.current_language())
    mimetype = MIMETYPES[kind]
    content = off_the_loop(_renderer(kind), built)
    name = document.filename(facts, kind)
    audit.record_export(db.session, current_user, f"laporan.{kind}", f"program:{program.id}", name)
    return web.download(content, mimetype, name)
