"""Run in subprocesses by test_processes.py: ``python -m tests.maillog.scenario setup | emails``.

* ``setup``: a CSM with an account (domain acme.example) and a contact there; prints her BCC address.
* ``emails``: every logged email as JSON (subject, account name, attachments, timeline entry).
"""

from __future__ import annotations

import json
import os
import sys


def main(command: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from tandem.audit.context import audit_context

    if command == "setup":
        from tandem.accounts.services import account_create, contact_create
        from tandem.maillog.services import mail_address_ensure
        from tandem.users.roles import Role
        from tandem.users.services import user_create

        with audit_context(via="ui"):
            casey = user_create(
                acting_user=None, username="casey", password=None, email="casey@vendor.example", roles=[Role.CSM]
            )
            account = account_create(acting_user=casey, name="Acme", external_id="acme", domain="acme.example")
            contact_create(acting_user=casey, account=account, first_name="Dana", email="dana@acme.example")
            print(mail_address_ensure(acting_user=casey, user=casey).address)
    elif command == "emails":
        from tandem.maillog.models import LoggedEmail

        rows = [
            {
                "subject": e.subject,
                "account": e.account.name if e.account else None,
                "direction": e.direction,
                "attachments": [a.filename for a in e.attachments.all()],
                "interaction": e.interaction_id is not None,
            }
            for e in LoggedEmail.objects.select_related("account").order_by("pk")
        ]
        print(json.dumps(rows))


if __name__ == "__main__":
    main(*sys.argv[1:])
