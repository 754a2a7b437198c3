"""Run in subprocesses by test_processes.py: ``python -m tests.usage.store_scenario setup|check``."""

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
    from django.utils import timezone

    from tandem.accounts.models import Account
    from tandem.ingest.services import source_create
    from tandem.metrics.services import metrics_install_defaults
    from tandem.usage.eventstore import EventStore

    if command == "setup":
        for n in range(20):
            Account.objects.create(name=f"Store {n}", external_id=f"acct-{n}", start_date=timezone.localdate())
        metrics_install_defaults(acting_user=None)
        _source, key = source_create(acting_user=None, name="App")
        print(json.dumps({"key": key, "first_account": Account.objects.order_by("id").first().pk}))
        return
    store = EventStore.for_settings()
    with store.cursor() as cur:
        total, tracked, distinct_tracked, imported = cur.execute(
            "SELECT count(*), count(dedupe_key), count(DISTINCT dedupe_key), count(*) FILTER (WHERE source_id IS NULL) "
            "FROM events"
        ).fetchall()[0]
    print(json.dumps({"total": total, "tracked": tracked, "distinct_tracked": distinct_tracked, "imported": imported}))


if __name__ == "__main__":
    main(sys.argv[1])
