"""Closed CTAs never slow the queues: every queue query can use a partial index on the open rows.

SQLite uses a partial index only when the query repeats its WHERE term as written, and it compares a
bound parameter with the index's literal in ``NOT (status = ?)`` but not inside ``status IN (?, ?)``;
before that was fixed, My day walked every CTA of the owner, closed ones too. PostgreSQL proves
implication properly and chooses by statistics, so the plans are checked on SQLite;
benchmarks/bench_cta_archive.py measures both.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from tandem.playbooks import selectors
from tandem.playbooks.models import OPEN_Q, CallToAction, CtaStatus
from tandem.users.services import user_create
from tests.factories import AccountFactory
from tests.playbooks.helpers import rule_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="query plans are checked on SQLite"),
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 30)


def plan(qs) -> str:
    return qs.explain()


def test_queue_queries_use_the_partial_indexes_on_open_ctas() -> None:
    csm = user_create(acting_user=None, username="q", password=None, roles=["csm"])
    account = AccountFactory(csm_owner=csm)
    rule = rule_for("renewal_within")
    common = {"rule": rule, "account": account, "owner": csm, "type": "risk", "title": "t", "opened_on": TODAY}
    CallToAction.objects.create(**common, due_date=TODAY)
    CallToAction.objects.create(**common, due_date=TODAY, status=CtaStatus.CLOSED, closed_at=timezone.now())

    my_day = CallToAction.objects.filter(selectors._visible_open(TODAY), owner=csm)
    assert "USING INDEX cta_open_owner_idx" in plan(selectors.queue_order(my_day, today=TODAY))
    team = CallToAction.objects.filter(OPEN_Q).values("owner_id").annotate(n=Count("id"))
    assert "cta_open_owner_idx" in plan(team)
    # The queues read the live accounts' open CTAs only: the join on the account keeps the index.
    live_team = CallToAction.objects.filter(selectors._open_work()).values("owner_id").annotate(n=Count("id"))
    assert "cta_open_owner_idx" in plan(live_team)
    assert "USING INDEX cta_open_account_idx" in plan(CallToAction.objects.filter(OPEN_Q, account=account))
    already = CallToAction.objects.filter(OPEN_Q, rule=rule).values_list("account_id")
    assert "cta_one_open_per_rule_account" in plan(already)
    cooling = CallToAction.objects.filter(rule=rule, status=CtaStatus.CLOSED, closed_at__gte=timezone.now())
    assert "USING INDEX cta_closed_rule_idx (rule_id=? AND closed_at>?)" in plan(cooling)
    assert [c.status for c in selectors.my_day(user=csm, today=TODAY)] == [CtaStatus.OPEN]
