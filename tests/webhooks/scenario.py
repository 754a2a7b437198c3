"""Run in subprocesses by test_worker.py: ``python -m tests.webhooks.scenario setup URL | deliveries``.

* ``setup URL``: an endpoint for account events at URL (its secret printed), then an account
  created and renamed through the accounts services, as a user of the web app would.
* ``deliveries``: every delivery as JSON (event type, status, attempts, message id).
"""

from __future__ import annotations

import json
import os
import sys


def main(command: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from tandem.audit.context import audit_context

    if command == "setup":
        from tandem.accounts.services import account_create, account_update
        from tandem.users.roles import Role
        from tandem.users.services import user_create
        from tandem.webhooks.services import endpoint_create

        with audit_context(via="ui"):
            admin = user_create(acting_user=None, username="ada", password=None, roles=[Role.ADMIN])
            endpoint = endpoint_create(
                acting_user=admin, name="CRM sync", url=args[0], event_types=["account.created", "account.updated"]
            )
            account = account_create(acting_user=admin, name="Acme", external_id="acme")
            account_update(acting_user=admin, account=account, data={"name": "Acme GmbH"})
        print(endpoint.secret)
    elif command == "deliveries":
        from tandem.webhooks.models import Delivery

        rows = Delivery.objects.order_by("pk").values_list("event_type", "status", "attempts", "message_id")
        print(json.dumps([list(r) for r in rows]))


if __name__ == "__main__":
    main(sys.argv[1], *sys.argv[2:])
