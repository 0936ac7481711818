"""Roster import: read a participant list (CSV or XLSX), check every row, import the good ones.

The organiser uploads a file (`views`); `files.read_table` reads it (in a worker thread: see the
view), `service.read_preview` recognises its columns (`columns`), checks every row (`checks`) and
`service.create_preview` stores the result as a `RosterImport` (`previews`: its content; nothing is
registered yet). The organiser may change which column holds what (`service.with_columns`), then
`service.confirm_import` checks the rows again against the current database and registers them,
all inside the caller's transaction: with any row in error nothing is imported unless the
organiser chose to skip those rows. `template` is the .xlsx to fill in.

Row numbers are the ones the organiser sees in Excel.
"""
