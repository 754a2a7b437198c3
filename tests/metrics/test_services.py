import datetime as dt
from decimal import Decimal

import pytest

from tandem.core.errors import DomainError
from tandem.metrics import store
from tandem.metrics.models import MetricDefinition, MetricValue
from tandem.metrics.selectors import metric_history_frame, metric_values
from tandem.metrics.services import metrics_compute, metrics_install_defaults, metrics_load_yaml, metrics_suggest
from tandem.subscriptions.services import subscription_recompute_totals
from tandem.usage.eventstore import Event
from tests.factories import AccountFactory, SubscriptionFactory, SubscriptionItemFactory, TicketFactory

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture(autouse=True)
def clean_snapshots():
    store.delete_snapshots("metrics")
    yield
    store.delete_snapshots("metrics")


@pytest.fixture
def company(event_store):
    a = AccountFactory(name="A")
    b = AccountFactory(name="B")
    for account, seats in ((a, 10), (b, 4)):
        sub = SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
        SubscriptionItemFactory(subscription=sub, quantity=Decimal(seats), unit_price=Decimal("12.00"))
        subscription_recompute_totals(subscription=sub)
    events = []
    # A: 3 users log in on 1-3 March; one report on 4 March (after the as-of date 4 March 00:00).
    for day in (1, 2, 3):
        for u in ("u1", "u2", "u3"):
            events.append(Event(account_id=a.pk, event="login", user_id=u, ts=dt.datetime(2025, 3, day, 9, tzinfo=UTC)))
    events.append(Event(account_id=a.pk, event="report", user_id="u1", ts=dt.datetime(2025, 3, 4, 9, tzinfo=UTC)))
    # B: one login in February's window before, none in the last 28 days.
    events.append(Event(account_id=b.pk, event="login", user_id="x", ts=dt.datetime(2025, 1, 20, tzinfo=UTC)))
    event_store.append(events)
    TicketFactory(account=b, opened_at=dt.datetime(2025, 2, 1, tzinfo=UTC))
    return a, b


def test_compute_is_point_in_time_and_stored(company):
    a, b = company
    metrics_install_defaults()
    result = metrics_compute(dates=[dt.date(2025, 3, 4)])

    assert result.accounts == 2
    assert metric_values(key="events_28d") == {a.pk: 9.0, b.pk: 0.0}  # the 4 March report is not counted
    assert metric_values(key="active_users_28d") == {a.pk: 3.0, b.pk: 0.0}
    assert metric_values(key="active_days_28d")[a.pk] == 3.0
    assert metric_values(key="active_users_per_seat") == {a.pk: 0.3, b.pk: 0.0}
    assert metric_values(key="seats") == {a.pk: 10.0, b.pk: 4.0}
    assert metric_values(key="mrr") == {a.pk: 10.0, b.pk: 4.0}  # 12.00 a year per seat
    assert metric_values(key="open_tickets") == {a.pk: 0.0, b.pk: 1.0}
    assert metric_values(key="tenure_days") == {a.pk: 62.0, b.pk: 62.0}
    # B had one event in the 28 days before the window and none in it: -100%.
    assert metric_values(key="events_change_28d") == {b.pk: -1.0}
    assert MetricValue.objects.filter(metric__key="events_28d").count() == 2
    assert metric_values(key="events_28d", as_of=dt.date(2025, 3, 10), account_ids=[a.pk]) == {a.pk: 9.0}
    assert metric_values(key="events_28d", as_of=dt.date(2025, 3, 1)) == {}


def test_history_has_one_snapshot_per_date(company):
    metrics_install_defaults()
    metrics_compute(dates=[dt.date(2025, 3, 2), dt.date(2025, 3, 5)])
    frame = metric_history_frame(keys=["events_28d"])
    a, _b = company
    assert frame.loc[(dt.date(2025, 3, 2), a.pk), "events_28d"] == 3.0
    assert frame.loc[(dt.date(2025, 3, 5), a.pk), "events_28d"] == 10.0


def test_suggest_builds_per_event_metrics(company):
    added = {m["key"] for m in metrics_suggest()}
    assert {"login_28d", "login_change_28d", "login_per_seat", "report_28d", "events_28d"} <= added
    assert metrics_suggest() == []  # nothing new the second time


def test_yaml_load_and_broken_reference_is_refused(db):
    created, updated = metrics_load_yaml(
        text="- key: logins\n  kind: event_count\n  events: [login]\n  window_days: 7\n"
    )
    assert (created, updated) == (1, 0)
    assert MetricDefinition.objects.get(key="logins").window_days == 7
    with pytest.raises(DomainError, match="unknown metric 'nope'"):
        metrics_load_yaml(text="- key: bad\n  kind: per_seat\n  base: nope\n")
    assert not MetricDefinition.objects.filter(key="bad").exists()
