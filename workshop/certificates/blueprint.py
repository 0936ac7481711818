"""The certificates blueprint; views.py registers its routes on it. It also gives the participant's
page (templates/registration/participant.html) `participant_certificate(registration)`, so that
the registration feature need not import this one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__)


@bp.app_context_processor
def _participant_certificate():
    from workshop.certificates.queries import valid_certificate_of

    return {"participant_certificate": valid_certificate_of}
