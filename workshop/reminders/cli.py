"""`flask scheduler`: the reminder scheduler as its own process."""

from __future__ import annotations

import logging

import click
from flask import current_app

from workshop.reminders import jobs


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run the job once (expand, send what is due) and exit.")
def scheduler_command(once: bool) -> None:
    """Send reminders: run the reminder scheduler in this process (set EMBEDDED_SCHEDULER=0 on the
    web processes then, so that only this one runs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if once:
        runner = jobs.SchedulerRunner(app, "once")
        result = runner.tick()
        runner.forget()
        if result is None:
            raise click.ClickException("the reminder job failed; see the log above")
        drained = result.drained
        click.echo(
            f"{result.expanded} new deliveries, {drained.sent} sent, {drained.retrying} to retry, "
            f"{drained.failed} failed, {result.late + drained.late} late."
        )
        return
    jobs.run_scheduler_process(app, echo=click.echo)
