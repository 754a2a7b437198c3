"""Success plan templates: a manager saves a plan as one, a CSM starts another account's plan from
it (dated from today, milestones owned by the account's CSM), and a segment's template is given by
the daily segments step to its accounts without a plan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tandem.accounts.models import Tier
from tandem.metrics.models import MetricDefinition, MetricKind
from tandem.segments.services import segment_save, segments_refresh
from tandem.success.models import DesiredOutcome, PlanTemplate, SuccessMilestone, SuccessPlan
from tandem.success.services import milestone_create, outcome_save
from tandem.success.templates_services import plan_template_apply
from tandem.users.roles import Role
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _client(role: Role, name: str) -> tuple[Client, object]:
    with as_fixture():
        user = user_create(acting_user=None, username=name, password=None, roles=[role])
    client = Client()
    client.force_login(user)
    return client, user


def test_a_manager_saves_a_plan_as_a_template_and_a_csm_starts_a_plan_from_it() -> None:
    today = timezone.localdate()
    metric = MetricDefinition.objects.create(
        key="active_users_28d", name="Active users", kind=MetricKind.DISTINCT_USERS, window_days=28
    )
    model = AccountFactory(name="Model customer")
    outcome = outcome_save(
        acting_user=None, account=model, title="25 weekly users", metric=metric, target=25,
        target_date=today + dt.timedelta(days=90),
    )  # fmt: skip
    milestone_create(
        acting_user=None, account=model, title="5 users", due_date=today + dt.timedelta(days=30),
        outcome=outcome, metric=metric, threshold=5,
    )  # fmt: skip
    milestone_create(acting_user=None, account=model, title="Admins trained", due_date=today + dt.timedelta(days=14))
    manager, _m = _client(Role.CS_MANAGER, "morgan")
    response = manager.post(f"/success/accounts/{model.pk}/plan/save-as-template/", {"name": "Onboarding"})
    assert response.status_code == 302
    template = PlanTemplate.objects.get()
    assert [o["target_days"] for o in template.outcomes] == [90]
    assert [(m["title"], m["due_days"], m["outcome"], m["metric"]) for m in template.milestones] == [
        ("Admins trained", 14, None, None),
        ("5 users", 30, 0, "active_users_28d"),
    ]

    csm, anna = _client(Role.CSM, "anna")
    with as_fixture():
        other = AccountFactory(name="New customer", csm_owner=anna)
    assert "Start from a template" in csm.get(f"/success/accounts/{other.pk}/plan/").content.decode()
    assert "Save as a template" not in csm.get(f"/success/accounts/{model.pk}/plan/").content.decode()
    assert csm.post(f"/success/accounts/{model.pk}/plan/save-as-template/", {"name": "Mine"}).status_code == 403
    response = csm.post(f"/success/accounts/{other.pk}/plan/template/", {"template": template.pk})
    assert response.status_code == 302
    [copied] = DesiredOutcome.objects.filter(plan__account=other)
    assert (copied.title, copied.metric, copied.target_date) == (
        "25 weekly users",
        metric,
        today + dt.timedelta(days=90),
    )
    milestones = list(SuccessMilestone.objects.filter(account=other).order_by("due_date"))
    assert [(m.title, m.due_date, m.owner, m.outcome_id) for m in milestones] == [
        ("Admins trained", today + dt.timedelta(days=14), anna, None),
        ("5 users", today + dt.timedelta(days=30), anna, copied.pk),
    ]
    # Deleting the template leaves the plans made from it.
    assert manager.post(f"/success/templates/{template.pk}/delete/").status_code == 302
    assert SuccessMilestone.objects.filter(account=other).count() == 2


def test_a_plan_without_outcomes_is_not_a_template() -> None:
    manager, _m = _client(Role.CS_MANAGER, "morgan")
    account = AccountFactory()
    response = manager.post(f"/success/accounts/{account.pk}/plan/save-as-template/", {"name": "Empty"})
    assert response.status_code == 400 and "The plan has no desired outcome yet." in response.content.decode()
    assert not PlanTemplate.objects.exists()


def test_the_daily_segments_step_gives_a_segments_template_to_its_accounts_without_a_plan() -> None:
    day = dt.date(2026, 6, 1)
    with_plan = AccountFactory(tier=Tier.ENTERPRISE)
    outcome_save(acting_user=None, account=with_plan, title="Their own goal", kpi_kind="reported", target=1)
    fresh = AccountFactory(tier=Tier.ENTERPRISE)
    AccountFactory(tier=Tier.SMB)
    segment = segment_save(
        acting_user=None,
        name="Enterprise",
        conditions=[{"field": "tier", "op": "eq", "value": "enterprise"}],
        today=day,
    )
    template = PlanTemplate.objects.create(
        name="Enterprise onboarding",
        segment=segment,
        auto_apply=True,
        service_model="high_touch",
        outcomes=[{"title": "Go live", "kpi_kind": "reported", "target": 1, "target_days": 60}],
        milestones=[{"title": "Kick-off", "due_days": 7, "outcome": 0}],
    )
    assert segments_refresh(acting_user=None, today=day).plans_started == 1
    assert list(DesiredOutcome.objects.filter(plan__account=fresh).values_list("title", "target_date")) == [
        ("Go live", day + dt.timedelta(days=60))
    ]
    assert SuccessPlan.objects.get(account=fresh).service_model == "high_touch"
    assert list(DesiredOutcome.objects.filter(plan__account=with_plan).values_list("title", flat=True)) == [
        "Their own goal"
    ]
    assert segments_refresh(acting_user=None, today=day + dt.timedelta(days=1)).plans_started == 0  # idempotent
    # A metric deleted since the template was saved: the customer reports the figure instead.
    template.outcomes = [{"title": "Usage", "kpi_kind": "metric", "metric": "gone", "target": 3}]
    other = AccountFactory()
    [made] = plan_template_apply(acting_user=None, account=other, template=template, today=day)
    assert (made.kpi_kind, made.metric) == ("reported", None)
