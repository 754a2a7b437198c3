"""Success plans: outcomes measured by a metric or a reported figure, milestones that complete
themselves when their metric reaches its threshold (the daily pipeline's step), completion by hand
with evidence, and the plan page for those who may change the account and those who may not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tandem.audit.models import AuditEntry
from tandem.core.errors import DomainError
from tandem.metrics.models import MetricDefinition, MetricKind, MetricValue
from tandem.success.models import DesiredOutcome, OutcomeStatus, SuccessMilestone, SuccessPlan
from tandem.success.selectors import account_plan, kpi_progress
from tandem.success.services import milestone_create, milestones_reach_by_metrics, outcome_save, plan_save
from tandem.timeline.models import EventKind, TimelineEvent
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, as_fixture

pytestmark = [pytest.mark.django_db]
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def metric() -> MetricDefinition:
    with as_fixture():
        return MetricDefinition.objects.create(
            key="active_users_28d", name="Active users (28 days)", kind=MetricKind.DISTINCT_USERS, window_days=28
        )


def _value(account, metric, value: float) -> None:
    MetricValue.objects.update_or_create(account=account, metric=metric, defaults={"value": value, "as_of": TODAY})


@pytest.mark.audit_via("fixture")
def test_a_metric_milestone_completes_itself_once_with_the_value_it_reached(metric) -> None:
    account, other = AccountFactory(), AccountFactory()
    outcome = outcome_save(acting_user=None, account=account, title="40 people use it weekly", metric=metric, target=40)
    first = milestone_create(
        acting_user=None,
        account=account,
        title="10 active users",
        due_date=TODAY,
        outcome=outcome,
        metric=metric,
        threshold=10,
    )
    later = milestone_create(
        acting_user=None,
        account=account,
        title="25 active users",
        due_date=TODAY,
        outcome=outcome,
        metric=metric,
        threshold=25,
    )
    elsewhere = milestone_create(
        acting_user=None, account=other, title="10 active users", due_date=TODAY, metric=metric, threshold=10
    )
    _value(account, metric, 12)
    _value(other, metric, 3)

    assert milestones_reach_by_metrics(acting_user=None, today=TODAY) == 1
    first.refresh_from_db()
    assert first.completed_at is not None and first.reached_value == 12
    assert SuccessMilestone.objects.get(pk=later.pk).completed_at is None
    assert SuccessMilestone.objects.get(pk=elsewhere.pk).completed_at is None
    event = TimelineEvent.objects.get(kind=EventKind.MILESTONE_REACHED)
    assert event.account_id == account.pk and event.data["value"] == 12
    # Idempotent: the next day's run adds nothing for what is reached.
    assert milestones_reach_by_metrics(acting_user=None, today=TODAY) == 0
    assert TimelineEvent.objects.filter(kind=EventKind.MILESTONE_REACHED).count() == 1

    view = account_plan(account_id=account.pk, today=TODAY)
    (item,) = view.outcomes
    assert item.current == 12 and item.progress == pytest.approx(12 / 40)
    assert [m.title for m in item.milestones] == ["10 active users", "25 active users"]
    assert (view.reached, view.total, view.overdue) == (1, 2, 0)


@pytest.mark.audit_via("fixture")
def test_lower_is_better_metrics_complete_when_they_fall_to_the_threshold(metric) -> None:
    metric.higher_is_better = False
    metric.save()
    account = AccountFactory()
    milestone = milestone_create(
        acting_user=None, account=account, title="Open tickets down to 5", due_date=TODAY, metric=metric, threshold=5
    )
    _value(account, metric, 7)
    assert milestones_reach_by_metrics(acting_user=None, today=TODAY) == 0
    _value(account, metric, 4)
    assert milestones_reach_by_metrics(acting_user=None, today=TODAY) == 1
    assert SuccessMilestone.objects.get(pk=milestone.pk).reached_value == 4
    assert kpi_progress(current=7, baseline=10, target=5) == pytest.approx(0.6)


@pytest.mark.audit_via("fixture")
def test_refusals_name_the_field_and_store_nothing(metric) -> None:
    account = AccountFactory()
    with pytest.raises(DomainError) as refused:
        outcome_save(acting_user=None, account=account, title="Faster month-end close", target=3)
    assert [e.field for e in refused.value.errors] == ["metric"]
    assert not DesiredOutcome.objects.exists()
    with pytest.raises(DomainError) as refused:
        milestone_create(acting_user=None, account=account, title="Half way", due_date=TODAY, metric=metric)
    assert [e.field for e in refused.value.errors] == ["threshold"]
    stranger = ContactFactory()
    with pytest.raises(DomainError) as refused:
        plan_save(acting_user=None, account=account, sponsor=stranger)
    assert [e.field for e in refused.value.errors] == ["sponsor"]
    assert not SuccessPlan.objects.exists() and not SuccessMilestone.objects.exists()


def _client(role: Role, name: str) -> Client:
    with as_fixture():
        user = user_create(acting_user=None, username=name, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client


def test_a_csm_builds_the_plan_on_its_page_and_a_viewer_only_reads_it(metric) -> None:
    with as_fixture():
        account = AccountFactory(name="Globex")
        sponsor = ContactFactory(account=account, first_name="Dana", last_name="Sponsor")
    manager = _client(Role.CS_MANAGER, "morgan")

    refused = manager.post(
        f"/success/accounts/{account.pk}/outcomes/",
        {"title": "Adoption", "kpi_kind": "metric", "target": "40", "status": "open"},
    )
    assert refused.status_code == 400 and "Choose the metric that measures this outcome." in refused.content.decode()
    assert not DesiredOutcome.objects.exists()

    added = manager.post(
        f"/success/accounts/{account.pk}/outcomes/",
        {
            "title": "40 people use it weekly",
            "kpi_kind": "metric",
            "metric": metric.pk,
            "target": "40",
            "status": "open",
        },
    )
    assert added.status_code == 302
    outcome = DesiredOutcome.objects.get()
    assert (
        manager.post(
            f"/success/accounts/{account.pk}/milestones/new/",
            {"title": "Admins trained", "due_date": "2020-01-31", "outcome": outcome.pk},
        ).status_code
        == 302
    )
    assert (
        manager.post(
            f"/success/accounts/{account.pk}/plan/edit/",
            {
                "sponsor": sponsor.pk,
                "service_model": "high_touch",
                "cadence_days": "30",
                "experience": "Monthly check-in with IT",
            },
        ).status_code
        == 302
    )
    page = manager.get(f"/success/accounts/{account.pk}/plan/").content.decode()
    assert "40 people use it weekly" in page and "Dana Sponsor" in page and "High touch" in page
    assert 'data-testid="gaps">1<' in page  # the milestone's date has passed: a success gap

    milestone = SuccessMilestone.objects.get()
    done = manager.post(f"/success/milestones/{milestone.pk}/complete/", {"evidence": "Training deck signed off"})
    assert done.status_code == 302
    milestone.refresh_from_db()
    assert milestone.evidence == "Training deck signed off" and milestone.completed_by is not None

    # The customer's goal changes: the outcome is edited and its history keeps the old target.
    assert (
        manager.post(
            f"/success/outcomes/{outcome.pk}/",
            {
                "title": "60 people use it weekly",
                "kpi_kind": "metric",
                "metric": metric.pk,
                "target": "60",
                "status": "open",
            },
        ).status_code
        == 302
    )
    changes = AuditEntry.objects.filter(object_pk=str(outcome.pk), content_type__model="desiredoutcome")
    assert any("40" in str(e.changes) and "60" in str(e.changes) for e in changes)
    assert (
        manager.post(
            f"/success/outcomes/{outcome.pk}/",
            {
                "title": "60 people use it weekly",
                "kpi_kind": "metric",
                "metric": metric.pk,
                "target": "60",
                "status": OutcomeStatus.ACHIEVED,
            },
        ).status_code
        == 302
    )
    assert DesiredOutcome.objects.get().achieved_on == timezone.localdate()

    viewer = _client(Role.READ_ONLY, "vera")
    read = viewer.get(f"/success/accounts/{account.pk}/plan/")
    main = read.content.decode().split('<main id="main"')[1].split("</main>")[0]
    assert (
        read.status_code == 200
        and "60 people use it weekly" in main
        and "<form" not in main.replace('class="history', "")
    )
    assert viewer.post(f"/success/accounts/{account.pk}/outcomes/", {"title": "x"}).status_code == 403
