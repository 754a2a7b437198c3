"""Run in subprocesses by test_worker.py: ``python -m tests.meetings.scenario setup | notifications``.

* ``setup``: a CSM (email notifications on) schedules a QBR with a contact, starting in 10 minutes,
  through the meetings service as the web app would; its reminder is due at once.
* ``notifications``: the CSM's notifications as JSON (key, title, emailed).
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
    from tandem.audit.context import audit_context

    if command == "setup":
        from django.utils import timezone

        from tandem.accounts.services import account_create, contact_create
        from tandem.meetings.services import meeting_schedule
        from tandem.notifications.services import preference_update
        from tandem.users.roles import Role
        from tandem.users.services import user_create

        with audit_context(via="ui"):
            csm = user_create(
                acting_user=None, username="cora", password=None, email="cora@tandem.test", roles=[Role.CSM]
            )
            preference_update(acting_user=csm, user=csm, email=True, slack_webhook_url="", daily_digest=False)
            account = account_create(acting_user=csm, name="Acme", csm_owner=csm)
            kim = contact_create(acting_user=csm, account=account, first_name="Kim", email="kim@acme.example")
            start = timezone.now() + dt.timedelta(minutes=10)
            meeting_schedule(
                acting_user=csm,
                account=account,
                kind="qbr",
                title="Q3 business review",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                contacts=[kim],
                colleagues=[csm],
            )
    elif command == "notifications":
        from tandem.notifications.models import Notification

        rows = Notification.objects.order_by("pk").values_list("key", "title", "emailed_at")
        print(json.dumps([[k, t, e is not None] for k, t, e in rows]))


if __name__ == "__main__":
    main(sys.argv[1])
