"""Set-based inserts: several statements' worth of rows, conflicts skipped, and only inserted rows returned."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.core import bulk
from tandem.jobs.models import Job, JobStatus
from tandem.jobs.services import job_enqueue_many

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


def test_insert_rows_skips_conflicts_and_returns_only_what_it_inserted(monkeypatch) -> None:
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 7)  # several statements on SQLite
    Job.objects.create(name="notifications.deliver", key="k3")
    now = bulk.db_value(Job, "run_after", dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC))
    fields = ("name", "payload", "key", "status", "run_after", "attempts", "max_attempts", "locked_by", "last_error")
    fields += ("created_at",)
    rows = [("notifications.deliver", f'{{"n": {n}}}', f"k{n}", "queued", now, 0, 5, "", "", now) for n in range(20)]

    inserted = bulk.insert_rows(model=Job, fields=fields, rows=rows, returning=("key",), ignore_conflicts=True)

    assert sorted(k for (k,) in inserted) == sorted(f"k{n}" for n in range(20) if n != 3)
    job = Job.objects.get(key="k12")
    assert (job.payload, job.status, job.run_after) == (
        {"n": 12},
        JobStatus.QUEUED,
        dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC),
    )
    assert Job.objects.count() == 20
    # Again (PostgreSQL reuses its staging table, which must start empty), then another column set.
    assert bulk.insert_rows(model=Job, fields=fields, rows=rows[:5], returning=("key",), ignore_conflicts=True) == []
    short = ("name", "payload", "key", "status", "run_after", "attempts", "max_attempts", "created_at")
    extra = [("notifications.deliver", "{}", "k99", "queued", now, 0, 5, now)]
    assert bulk.insert_rows(
        model=Job, fields=(*short, "locked_by", "last_error"), rows=[(*r, "", "") for r in extra], returning=("key",)
    ) == [("k99",)]
    assert Job.objects.count() == 21


def test_job_enqueue_many_counts_only_new_keys_and_refuses_unknown_names() -> None:
    jobs = [("notifications.deliver", {"user_id": 1, "key": "a"}, "notify:1:a"), ("notifications.digests", {}, None)]
    assert job_enqueue_many(jobs=jobs) == 2
    assert job_enqueue_many(jobs=jobs) == 1  # a NULL key never conflicts
    assert Job.objects.get(key="notify:1:a").payload == {"user_id": 1, "key": "a"}
    with pytest.raises(LookupError, match="no job named 'nope'"):
        job_enqueue_many(jobs=[("nope", {}, "x")])
    assert Job.objects.count() == 3


def test_insert_instances_stores_what_bulk_create_stores_and_sets_the_ids() -> None:
    from django.db import connection

    from tandem.support.models import Ticket
    from tests.factories import AccountFactory

    account = AccountFactory()
    berlin = dt.timezone(dt.timedelta(hours=1))

    def tickets(prefix: str) -> list[Ticket]:
        return [
            Ticket(
                account=account,  # a related object, not its id: bulk_create takes either
                external_id=f"{prefix}-{n}",
                subject=f"Ticket {n}",
                priority="high" if n % 2 else "normal",
                status="closed" if n % 2 else "open",
                opened_at=dt.datetime(2025, 3, 30, 1, 30, n, 250, tzinfo=berlin),
                closed_at=dt.datetime(2025, 4, 1, 9, tzinfo=dt.UTC) if n % 2 else None,
                satisfaction=n % 5 + 1 if n % 3 else None,
            )
            for n in range(5)
        ]

    fast, slow = tickets("fast"), tickets("slow")
    assert bulk.insert_instances(Ticket, fast) is True
    Ticket.objects.bulk_create(slow)

    assert all(t.pk is not None and not t._state.adding for t in fast)
    assert [Ticket.objects.get(pk=t.pk).external_id for t in fast] == [t.external_id for t in fast]
    columns = "account_id, contact_id, subject, priority, status, opened_at, closed_at, satisfaction"
    with connection.cursor() as cursor:
        stored = {}
        for prefix, batch in (("fast", fast), ("slow", slow)):
            ids = ", ".join(str(t.pk) for t in batch)
            cursor.execute(
                f"SELECT {columns}, created_at IS NOT NULL FROM support_ticket WHERE id IN ({ids}) ORDER BY id"
            )
            stored[prefix] = cursor.fetchall()
    assert stored["fast"] == stored["slow"]  # the same text for datetimes, the same NULLs


def test_insert_instances_leaves_instances_with_an_id_to_bulk_create() -> None:
    from tandem.support.models import Ticket
    from tests.factories import AccountFactory

    account = AccountFactory()
    ticket = Ticket(pk=10_000, account=account, subject="s", opened_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert bulk.insert_instances(Ticket, [ticket]) is False
    assert not Ticket.objects.exists()
