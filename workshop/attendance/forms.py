"""The meeting report upload: Zoom's participants report, a CSV file."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired

from workshop.attendance.reader import FILE_ERRORS
from workshop.uploads import NO_FILE, UploadForm, within_upload_limit


class MeetingReportForm(UploadForm):
    """Its content is read and checked by workshop/attendance/reader.py."""

    file = FileField(
        validators=[
            FileRequired(NO_FILE),
            within_upload_limit,
            FileAllowed(("csv",), FILE_ERRORS["wrong_type"]),
        ]
    )
