"""Run in a subprocess by test_kill_worker.py: ``python -m tests.jobs.kill_scenario setup|check``."""

from __future__ import annotations

import json
import os
import sys


def main(command: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from tandem.audit.context import set_process_via

    set_process_via("fixture")  # the scenario's set-up, not a write through one of the product's paths
    from django.db.models import Count
    from django.utils import timezone

    from tandem.accounts.models import Account, Contact
    from tandem.jobs.models import Job
    from tandem.jobs.services import job_enqueue
    from tandem.playbooks.models import CallToAction, EmailTemplate, OutboundEmail, Playbook, PlaybookStep, Rule
    from tandem.timeline.models import Interaction
    from tandem.users.services import user_create

    if command == "setup":
        csm = user_create(acting_user=None, username="kim", password=None, roles=["csm"], email="kim@tandem.test")
        for n in range(3):
            account = Account.objects.create(name=f"Kill {n}", start_date=timezone.localdate(), csm_owner=csm)
            Contact.objects.create(account=account, first_name=f"C{n}", email=f"c{n}@kill.example", is_primary=True)
        tpl = EmailTemplate.objects.create(key="hi", name="Hi", subject="Hi {{ account.name }}", body="Hello")
        playbook = Playbook.objects.create(key="welcome", name="Welcome")
        PlaybookStep.objects.create(
            playbook=playbook, position=0, kind="email", title="Welcome", email_template=tpl, auto_send=True
        )
        Rule.objects.create(name="New", trigger="new_account", params={"days": 3}, playbook=playbook)
        job_enqueue(name="playbooks.evaluate_rules", payload={"day": timezone.localdate().isoformat()}, key="eval")
        return
    print(
        json.dumps(
            {
                "ctas": CallToAction.objects.count(),
                "ctas_per_account": sorted(
                    CallToAction.objects.values("account").annotate(n=Count("id")).values_list("n", flat=True)
                ),
                "emails": sorted(OutboundEmail.objects.values_list("status", flat=True)),
                "interactions": Interaction.objects.count(),
                "jobs": sorted(Job.objects.values_list("name", "status", "attempts")),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
