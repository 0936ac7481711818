"""The laporan kegiatan (activity report) of a programme or one stage: DOCX and PDF."""
