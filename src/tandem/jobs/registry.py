"""Job functions by name. A job takes its payload as keyword arguments and must be idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

JobFunc = Callable[..., Any]

# Dotted paths, imported on first use so the worker does not import every domain at start.
JOBS: dict[str, str] = {
    # The daily pipeline (tandem.daily); the name predates that app and stays for queued rows.
    "playbooks.daily": "tandem.daily.tasks.daily_pipeline",
    "playbooks.evaluate_rules": "tandem.playbooks.tasks.evaluate_rules",
    "playbooks.send_customer_email": "tandem.playbooks.tasks.send_customer_email",
    "playbooks.advance_ctas": "tandem.playbooks.tasks.advance_ctas",
    "notifications.deliver": "tandem.notifications.tasks.deliver_notification",
    "notifications.digest": "tandem.notifications.tasks.send_digest",
    "notifications.digests": "tandem.notifications.tasks.send_digests",
    "webhooks.dispatch": "tandem.webhooks.tasks.dispatch",
    "webhooks.deliver": "tandem.webhooks.tasks.deliver",
    # Long computations a user started (previews, backtests, PDF reports): tandem.jobs.computations.
    "jobs.compute": "tandem.jobs.computations.run_computation",
    "meetings.remind": "tandem.meetings.tasks.remind",
    "meetings.invite": "tandem.meetings.tasks.invite",
    "meetings.caldav_sync": "tandem.meetings.tasks.caldav_sync",
    "maillog.ingest": "tandem.maillog.tasks.ingest",
    "maillog.poll": "tandem.maillog.tasks.poll",
}


def job_function(name: str) -> JobFunc:
    try:
        return import_string(JOBS[name])
    except KeyError:
        raise LookupError(f"no job named {name!r}") from None
