"""The revenue retention page never computes in a request: the daily default is stored, other
options run on a worker while the page shows their progress; and the vectorised summaries agree
with the per-account definition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tandem.jobs.models import Computation, Job, JobStatus
from tandem.jobs.worker import run_worker
from tandem.revenue.engine import (
    ZERO,
    AccountState,
    AccountTimeline,
    PeriodSummary,
    TermRow,
    build_timelines,
    month_starts,
    movements_between,
    state_arrays,
    summarise_states,
)
from tandem.revenue.selectors import revenue_summary
from tandem.revenue.services import revenue_analytics_refresh
from tandem.users.services import user_create
from tests.computations import finish, poll_urls, run_computations
from tests.factories import UserFactory
from tests.revenue.test_fixtures import Q2, book  # noqa: F401 - the fixture

pytestmark = [pytest.mark.audit_via("fixture")]

Q2_QUERY = {"from": "2025-04-01", "to": "2025-06-30", "by": "currency", "granularity": "month"}


def _admin() -> Client:
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_other_options_are_computed_on_a_worker_and_then_read(book) -> None:  # noqa: F811
    client = _admin()
    first = client.get("/revenue/", Q2_QUERY).content.decode()
    assert poll_urls(first) and 'data-testid="nrr"' not in first
    assert Computation.objects.filter(kind="revenue.summary", status=JobStatus.QUEUED).count() == 1

    result = finish(client, first)
    assert 'data-testid="nrr"' in result and "82.1" in result  # NRR 4945.00 / 6019.99
    assert "Computed on" in result and "Recompute now" in result
    # The same options again: the stored result, no new computation.
    again = client.get("/revenue/", Q2_QUERY).content.decode()
    assert 'data-testid="nrr"' in again and not poll_urls(again)
    assert run_computations() == 0
    for group in ("USD", "EUR", "GBP"):
        assert f">{group}<" in again


def test_a_real_worker_loop_runs_the_computation(book, transactional_db) -> None:  # noqa: F811
    client = _admin()
    client.get("/revenue/", Q2_QUERY)
    stats = run_worker(burst=True, schedule=False)
    assert "jobs.compute" in stats.names
    row = Computation.objects.get(kind="revenue.summary")
    assert row.status == JobStatus.DONE
    assert row.result["report"]["total"]["closing_mrr"] == "5595.00"
    assert 'data-testid="nrr"' in client.get("/revenue/", Q2_QUERY).content.decode()


def test_the_daily_pipeline_stores_the_default_view(book) -> None:  # noqa: F811
    today = timezone.localdate()
    revenue_analytics_refresh(today=today)
    page = _admin().get("/revenue/").content.decode()
    assert "Computed by the daily pipeline" in page and 'data-testid="nrr"' in page
    assert not Job.objects.filter(name="jobs.compute").exists()
    stored = Computation.objects.get(kind="revenue.summary")
    live = revenue_summary(start=dt.date(today.year - 1, today.month, 1), end=today, by="tier")
    assert stored.result["report"]["total"]["closing_mrr"] == str(live.total.closing_mrr)


def test_recompute_starts_the_same_options_again(book) -> None:  # noqa: F811
    client = _admin()
    finish(client, client.get("/revenue/", Q2_QUERY).content.decode())
    done = Computation.objects.get(kind="revenue.summary")

    response = client.post("/revenue/recompute/", Q2_QUERY)
    assert response.status_code == 302 and "from=2025-04-01" in response["Location"]
    fresh = Computation.objects.get(kind="revenue.summary")
    assert fresh.pk != done.pk and fresh.status == JobStatus.QUEUED
    assert "82.1" in finish(client, client.get(response["Location"]).content.decode())


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"from": "2025-06-30", "to": "2025-04-01"}, "to:"),
        ({"from": "0001-01-01", "to": "2025-04-01"}, "from:"),
        ({"from": "2025-01-01", "to": "2025-04-01", "granularity": "week"}, "granularity:"),
    ],
)
def test_refused_options_name_the_field_and_start_nothing(book, query, named) -> None:  # noqa: F811
    page = _admin().get("/revenue/", query)
    assert page.status_code == 400 and named in page.content.decode()
    assert not Computation.objects.exists()


def test_a_reader_without_company_figures_cannot_poll_the_shared_result(book) -> None:  # noqa: F811
    admin = _admin()
    finish(admin, admin.get("/revenue/", Q2_QUERY).content.decode())
    row = Computation.objects.get(kind="revenue.summary")
    csm = Client()
    csm.force_login(user_create(acting_user=None, username="cee", password=None, roles=["csm"]))
    assert csm.get("/revenue/").status_code == 403
    assert csm.get(f"/jobs/computations/{row.pk}/").status_code == 403
    assert csm.post("/revenue/recompute/", Q2_QUERY).status_code == 403


# --- the vectorised summaries against the per-account definition ------------------------------


def _reference(timelines: list[AccountTimeline], start: dt.date, end: dt.date) -> PeriodSummary:
    """The definition, one account at a time (docs/revenue.md), as the engine had it before NumPy."""
    total = PeriodSummary(start=start, end=end)
    for timeline in timelines:
        s = PeriodSummary(start=start, end=end)
        opening = timeline.at(start - dt.timedelta(days=1))
        closing = timeline.at(end)
        s.opening_mrr, s.closing_mrr = opening.mrr, closing.mrr
        in_cohort = opening.mrr > 0
        s.opening_customers, s.closing_customers = int(opening.is_customer), int(closing.is_customer)
        s.churned_customers = int(opening.is_customer and not closing.is_customer)
        for m in movements_between(timeline, start, end):
            if m.kind == "new":
                s.new += m.amount
                s.new_customers += 1
            elif m.kind == "reactivation":
                s.reactivation += m.amount
                s.reactivated_customers += 1
            elif m.kind == "expansion":
                s.expansion += m.amount
            elif m.kind == "contraction":
                s.contraction -= m.amount
                s.cohort_contraction -= m.amount if in_cohort else ZERO
            else:
                s.churn -= m.amount
                s.cohort_churn -= m.amount if in_cohort else ZERO
        if in_cohort:
            s.cohort_closing_mrr = closing.mrr
            s.cohort_retained_mrr = min(closing.mrr, opening.mrr)
        total.add(s)
    return total


def _random_terms(rng: random.Random, accounts: int) -> list[TermRow]:
    terms = []
    for account in range(accounts):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
        for _n in range(rng.randint(1, 4)):
            length = rng.choice([30, 90, 365])
            end = None if rng.random() < 0.15 else day + dt.timedelta(days=length - 1)
            status = rng.choice(["active", "ended", "canceled", "paused", "trialing"])
            mrr = Decimal(rng.randint(0, 500_000)) / 100
            terms.append(TermRow(account, rng.choice(["USD", "EUR"]), day, end, status, mrr))
            if end is None:
                break
            day = end + dt.timedelta(days=rng.choice([1, 1, 1, 20, 200]))
    return terms


def test_vectorised_summaries_equal_the_per_account_definition() -> None:
    rng = random.Random(7)
    timelines = list(build_timelines(_random_terms(rng, 400), {"USD": Decimal(1), "EUR": Decimal("1.0837")}).values())
    arrays = state_arrays(timelines)
    periods = [(dt.date(2023, 1, 1), dt.date(2026, 12, 31))]
    periods += month_starts(dt.date(2023, 6, 1), dt.date(2025, 6, 30), 3)
    periods += [(dt.date(2024, 2, 29), dt.date(2024, 2, 29))]
    for start, end in periods:
        assert dataclasses.asdict(summarise_states(arrays, start, end)) == dataclasses.asdict(
            _reference(timelines, start, end)
        ), (start, end)
    members = arrays.account_ids % 3 == 0
    some = [t for t in timelines if t.account_id % 3 == 0]
    assert summarise_states(arrays, *periods[0], members=members) == _reference(some, *periods[0])


def test_an_empty_history_summarises_to_zero() -> None:
    empty = summarise_states(state_arrays([]), dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert (empty.opening_mrr, empty.closing_mrr, empty.nrr) == (Decimal("0.00"), Decimal("0.00"), None)
    lone = AccountTimeline(
        account_id=5, states=[AccountState(day=dt.date(2025, 2, 1), mrr=Decimal("10.00"), is_customer=True)]
    )
    one = summarise_states(state_arrays([lone]), dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert (one.new, one.new_customers, one.closing_mrr) == (Decimal("10.00"), 1, Decimal("10.00"))
