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

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
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
    metrics_install_defaults(acting_user=None)
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
    metrics_install_defaults(acting_user=None)
    metrics_compute(dates=[dt.date(2025, 3, 2), dt.date(2025, 3, 5)])
    frame = metric_history_frame(keys=["events_28d"])
    a, _b = company
    assert frame.loc[(dt.date(2025, 3, 2), a.pk), "events_28d"] == 3.0
    assert frame.loc[(dt.date(2025, 3, 5), a.pk), "events_28d"] == 10.0


def test_suggest_builds_per_event_metrics(company):
    added = {m["key"] for m in metrics_suggest(acting_user=None)}
    assert {"login_28d", "login_change_28d", "login_per_seat", "report_28d", "events_28d"} <= added
    assert metrics_suggest(acting_user=None) == []  # nothing new the second time


def test_yaml_load_and_broken_reference_is_refused(db):
    created, updated = metrics_load_yaml(
        acting_user=None, text="- key: logins\n  kind: event_count\n  events: [login]\n  window_days: 7\n"
    )
    assert (created, updated) == (1, 0)
    assert MetricDefinition.objects.get(key="logins").window_days == 7
    with pytest.raises(DomainError, match="unknown metric 'nope'"):
        metrics_load_yaml(acting_user=None, text="- key: bad\n  kind: per_seat\n  base: nope\n")
    assert not MetricDefinition.objects.filter(key="bad").exists()


def test_latest_nps_and_milestones_are_point_in_time(company):
    from tandem.success.models import SuccessMilestone
    from tandem.surveys.models import NpsResponse

    a, b = company
    NpsResponse.objects.create(account=a, score=9, responded_at=dt.datetime(2025, 2, 1, 10, tzinfo=UTC))
    NpsResponse.objects.create(account=a, score=4, responded_at=dt.datetime(2025, 3, 4, 8, tzinfo=UTC))  # after D
    SuccessMilestone.objects.create(
        account=a, title="Kick-off", due_date=dt.date(2025, 2, 1), completed_at=dt.datetime(2025, 2, 3, tzinfo=UTC)
    )
    SuccessMilestone.objects.create(account=a, title="Go live", due_date=dt.date(2025, 3, 1))  # overdue, open
    SuccessMilestone.objects.create(
        account=a,
        title="First report",
        due_date=dt.date(2025, 3, 20),
        completed_at=dt.datetime(2025, 3, 5, tzinfo=UTC),  # done after D: not known on 4 March
    )
    SuccessMilestone.objects.create(account=b, title="Go live", due_date=dt.date(2025, 4, 1))  # not due yet
    metrics_load_yaml(
        acting_user=None,
        text=(
            "- key: nps\n  kind: latest_nps\n  window_days: 365\n"
            "- key: milestones\n  kind: milestone_completion\n  window_days: 365\n"
        ),
    )
    assert MetricDefinition.objects.get(key="nps").get_kind_display() == "Latest NPS score"

    metrics_compute(dates=[dt.date(2025, 3, 4), dt.date(2025, 3, 10)])

    assert metric_values(key="nps", as_of=dt.date(2025, 3, 4)) == {a.pk: 9.0}
    assert metric_values(key="nps", as_of=dt.date(2025, 3, 10)) == {a.pk: 4.0}
    assert metric_values(key="milestones", as_of=dt.date(2025, 3, 4)) == {a.pk: 0.5}
    assert metric_values(key="milestones", as_of=dt.date(2025, 3, 10)) == {a.pk: pytest.approx(2 / 3)}


def test_defaults_include_nps_and_milestones(db):
    metrics_install_defaults(acting_user=None)
    kinds = dict(MetricDefinition.objects.values_list("key", "kind"))
    assert kinds["latest_nps"] == "latest_nps"
    assert kinds["milestone_completion"] == "milestone_completion"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "property_sum"}, "property", "Required for this kind of metric."),
        ({"kind": "ratio", "numerator": "logins"}, "denominator", "Required for this kind of metric."),
        ({"kind": "change", "base": "nope"}, "__all__", "x: refers to unknown metric 'nope'"),
        ({"kind": "change", "base": "nps"}, "__all__", "x: a change metric needs a usage-event base metric"),
        ({"kind": "event_count", "events": '"login"'}, None, None),
        ({"kind": "event_count", "events": "[1]"}, "events", "Enter a list of event names"),
    ],
)
def test_definition_form_checks_each_kind(db, data, field, message):
    from tandem.metrics.forms import MetricDefinitionForm

    metrics_load_yaml(
        acting_user=None,
        text="- key: logins\n  kind: event_count\n- key: nps\n  kind: latest_nps\n  window_days: 365\n",
    )
    form = MetricDefinitionForm(
        data={"key": "x", "name": "X", "window_days": 28, "higher_is_better": True, "is_active": True, **data}
    )
    if field is None:
        assert form.is_valid(), form.errors
        assert form.save().events == ["login"]
        return
    assert not form.is_valid()
    assert any(message in e for e in form.errors[field])
    assert not MetricDefinition.objects.filter(key="x").exists()


def test_definition_form_saves_new_kinds(db):
    from tandem.metrics.forms import MetricDefinitionForm

    form = MetricDefinitionForm(
        data={"key": "done", "name": "Done", "kind": "milestone_completion", "window_days": 180, "is_active": True}
    )
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.kind, saved.window_days, saved.events) == ("milestone_completion", 180, [])


def test_current_values_are_rewritten_in_place_day_after_day(db):
    """The daily copy writes only what changed, and ends up exactly where a full rewrite would."""
    import pyarrow as pa

    from tandem.metrics.services import _store_current

    a, b, c = AccountFactory(), AccountFactory(), AccountFactory()
    MetricDefinition.objects.create(key="x", name="x", kind="seats")
    MetricDefinition.objects.create(key="y", name="y", kind="mrr")
    day1, day2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    _store_current(pa.table({"account_id": [a.pk, b.pk], "x": [1.0, 2.0], "y": [5.0, float("nan")]}), ["x", "y"], day1)
    # Next day: a's x changes, b leaves the snapshot, c appears, a's y becomes unknown.
    _store_current(pa.table({"account_id": [a.pk, c.pk], "x": [3.0, 4.0], "y": [float("nan"), 6.0]}), ["x", "y"], day2)
    assert sorted(MetricValue.objects.values_list("account_id", "metric__key", "value", "as_of")) == sorted(
        [(a.pk, "x", 3.0, day2), (a.pk, "y", None, day2), (c.pk, "x", 4.0, day2), (c.pk, "y", 6.0, day2)]
    )
    _store_current(pa.table({"account_id": [a.pk], "x": [9.0], "y": [9.0]}), ["x", "y"], day1)  # older: ignored
    assert metric_values(key="x") == {a.pk: 3.0, c.pk: 4.0}
