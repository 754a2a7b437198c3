"""Run in subprocesses by test_paths.py: ``python -m tests.audit.scenario setup|entries``.

* ``setup``: an account with a CTA snoozed until yesterday (test set-up, via "fixture"), and the
  job that wakes it queued for a worker.
* ``entries``: every audit entry, as JSON (path, model, action, changes, actor).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main(command: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from tandem.audit.context import set_process_via

    set_process_via("fixture")  # the scenario's set-up, not a write through one of the product's paths
    from django.utils import timezone

    from tandem.audit.models import AuditEntry

    if command == "setup":
        from tandem.accounts.models import Account
        from tandem.jobs.services import job_enqueue
        from tandem.playbooks.models import CallToAction, CtaStatus, CtaType

        today = timezone.localdate()
        account = Account.objects.create(name="Snoozed Inc", external_id="snoozed")
        CallToAction.objects.create(
            account=account,
            type=CtaType.RISK,
            title="Check in",
            status=CtaStatus.SNOOZED,
            snoozed_until=today - dt.timedelta(days=1),
            opened_on=today - dt.timedelta(days=10),
            due_date=today,
        )
        job_enqueue(name="playbooks.advance_ctas", payload={"day": today.isoformat()}, key="advance")
        return
    entries = AuditEntry.objects.order_by("pk").values_list(
        "via", "content_type__model", "action", "changes", "actor__username"
    )
    print(json.dumps([list(e) for e in entries]))


if __name__ == "__main__":
    main(sys.argv[1])
