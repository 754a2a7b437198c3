"""The daily pipeline in-process: what each step returns and leaves, a second run changes nothing,
a keyed run resumes after the steps it finished, and every caller (job, CLI) goes through it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tandem.cli.app import app
from tandem.daily.models import DailyRun, DailyRunStep, DailyStep
from tandem.daily.services import RenewalsOpened, daily_pipeline_run, daily_run_key
from tandem.health.models import AccountHealth, HealthScoreCurrent
from tandem.health.services import HealthRunResult
from tandem.jobs.models import Job
from tandem.jobs.registry import job_function
from tandem.metrics import store
from tandem.metrics.models import MetricDefinition, MetricValue
from tandem.metrics.services import ComputeResult
from tandem.notifications.models import Notification
from tandem.notifications.services import DigestsQueued
from tandem.opportunities.models import Opportunity
from tandem.playbooks.models import CallToAction, ChurnRiskSample, CtaTask, OutboundEmail, Rule
from tandem.playbooks.services import CtaAdvanceResult, EvaluationReport, RuleOutcome
from tandem.risk.models import AccountRisk
from tandem.risk.services import RiskRefreshResult, risk_refresh
from tandem.usage.eventstore import EventStore
from tandem.users.models import User
from tandem.users.services import user_create
from tests.daily.world import MODEL_VERSION, build_world

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 30)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshots and the churn model live in TANDEM_HOME: one per test."""
    monkeypatch.setenv("TANDEM_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def world(home: Path, event_store: EventStore) -> None:
    build_world(today=TODAY)


def state() -> dict[str, Any]:
    """Everything the pipeline writes, as comparable values (ids left out: risk and health rows are
    replaced by each scoring, with the same values)."""
    return {
        "metric_values": sorted(
            MetricValue.objects.values_list("account__name", "metric__key", "value", "as_of"), key=repr
        ),
        "metric_snapshot": sorted(
            store.read_snapshots("metrics", dates=[TODAY]).to_pylist(), key=lambda r: (r["account_id"], r["metric"])
        ),
        "health": sorted(AccountHealth.objects.values_list("account__name", "score", "band", "as_of")),
        "health_current": sorted(HealthScoreCurrent.objects.values_list("account__name", "scorecard__name", "score")),
        "risk": sorted(AccountRisk.objects.values_list("account__name", "probability", "as_of", "model_version")),
        "risk_samples": sorted(ChurnRiskSample.objects.values_list("account__name", "as_of", "probability")),
        "renewals": sorted(Opportunity.objects.values_list("account__name", "kind", "stage", "amount")),
        "ctas": sorted(CallToAction.objects.values_list("rule__name", "account__name", "status", "owner__username")),
        "tasks": sorted(CtaTask.objects.values_list("cta__rule__name", "cta__account__name", "position", "status")),
        "emails": sorted(OutboundEmail.objects.values_list("to_email", "subject", "status")),
        "notifications": sorted(Notification.objects.values_list("user__username", "key")),
        "jobs": sorted(Job.objects.values_list("name", "key", "status")),
    }


def test_each_step_returns_its_typed_result_and_leaves_its_output(world: None) -> None:
    result = daily_pipeline_run(acting_user=None, today=TODAY)

    metrics = MetricDefinition.objects.filter(is_active=True).count()
    assert [s.step for s in result.steps] == list(DailyStep)
    assert [s.resumed for s in result.steps] == [False] * 10
    assert all(s.seconds >= 0 for s in result.steps)
    assert result.metrics.result == ComputeResult(
        dates=[TODAY], accounts=2, metrics=metrics, seconds=result.metrics.result.seconds
    )
    assert result.health.result == HealthRunResult(
        dates=1, scorecards=1, accounts=2, seconds=result.health.result.seconds
    )
    assert result.risk.result == RiskRefreshResult(as_of=TODAY, scored=2, model_version=MODEL_VERSION)
    assert result.renewals.result == RenewalsOpened(opened=1)
    rules = {r.name: r.pk for r in Rule.objects.all()}
    assert result.rules.result == EvaluationReport(
        today=TODAY,
        rules=[RuleOutcome(rules["Scored today"], 2, 2), RuleOutcome(rules["Any churn risk"], 2, 2)],
    )
    assert result.ctas.result == CtaAdvanceResult(woken=0, waits_finished=2)
    assert result.digests.result == DigestsQueued(day=TODAY, users=3, queued=3)

    # What each step left: today's snapshot and current values, scores, risk, renewals, CTAs, emails.
    assert store.snapshot_dates("metrics") == [TODAY]
    assert set(MetricValue.objects.values_list("as_of", flat=True)) == {TODAY}
    assert MetricValue.objects.count() == 2 * metrics
    assert sorted(AccountHealth.objects.values_list("account__name", "as_of")) == [
        ("Globex", TODAY),
        ("Initech", TODAY),
    ]
    assert sorted(AccountRisk.objects.values_list("account__name", "as_of", "model_version")) == [
        ("Globex", TODAY, MODEL_VERSION),
        ("Initech", TODAY, MODEL_VERSION),
    ]
    assert list(Opportunity.objects.values_list("account__name", "kind")) == [("Globex", "renewal")]
    assert sorted(CallToAction.objects.values_list("rule__name", "account__name", "owner__username")) == [
        ("Any churn risk", "Globex", "kim"),
        ("Any churn risk", "Initech", "kim"),
        ("Scored today", "Globex", "kim"),
        ("Scored today", "Initech", "kim"),
    ]
    # The waits of "Scored today" ended today: the email and the task after them are there.
    assert sorted(
        CtaTask.objects.filter(cta__rule__name="Scored today").values_list("cta__account__name", "title", "status")
    ) == [
        ("Globex", "Call the champion", "pending"),
        ("Globex", "Check in", "pending"),
        ("Globex", "Wait for the day", "done"),
        ("Initech", "Call the champion", "pending"),
        ("Initech", "Check in", "pending"),
        ("Initech", "Wait for the day", "done"),
    ]
    assert sorted(OutboundEmail.objects.values_list("to_email", "status")) == [
        ("buyer@globex.example", "queued"),
        ("buyer@initech.example", "queued"),
    ]
    queued = sorted(
        Job.objects.filter(name__in=["notifications.digest", "playbooks.send_customer_email"]).values_list(
            "name", "key"
        )
    )
    assert [name for name, _key in queued] == ["notifications.digest"] * 3 + ["playbooks.send_customer_email"] * 2
    assert {key for name, key in queued if name == "notifications.digest"} == {
        f"digest:{pk}:{TODAY}" for pk in User.objects.values_list("pk", flat=True)
    }
    run = DailyRun.objects.get()
    assert (run.day, run.key, run.finished_at is not None) == (TODAY, None, True)
    assert list(run.steps.values_list("step", flat=True)) == list(DailyStep)


def test_running_it_twice_changes_nothing(world: None) -> None:
    daily_pipeline_run(acting_user=None, today=TODAY)
    before = state()

    again = daily_pipeline_run(acting_user=None, today=TODAY)

    assert state() == before
    assert [s.resumed for s in again.steps] == [False] * 10  # an unkeyed run runs every step again...
    assert again.renewals.result == RenewalsOpened(opened=0)  # ...which opens, queues and advances nothing
    assert again.rules.result.opened == 0
    assert [(o.matched, o.opened) for o in again.rules.result.rules] == [(2, 0), (2, 0)]
    assert again.ctas.result == CtaAdvanceResult(woken=0, waits_finished=0)
    assert again.digests.result == DigestsQueued(day=TODAY, users=3, queued=0)
    assert DailyRun.objects.count() == 2


def test_a_keyed_run_resumes_after_the_steps_it_finished(world: None, monkeypatch: pytest.MonkeyPatch) -> None:
    key = daily_run_key(TODAY)

    def killed(**kwargs: Any) -> None:
        raise RuntimeError("the worker died here")

    monkeypatch.setattr("tandem.daily.services.rules_evaluate", killed)
    with pytest.raises(RuntimeError, match="the worker died here"):
        daily_pipeline_run(acting_user=None, today=TODAY, run_key=key)
    run = DailyRun.objects.get(key=key)
    assert list(run.steps.values_list("step", flat=True)) == [
        "metrics",
        "milestones",
        "health",
        "risk",
        "segments",
        "analytics",
        "renewals",
    ]
    assert run.finished_at is None
    first = {s.step: s.result for s in run.steps.all()}

    monkeypatch.undo()
    # What finished is not run again: these would fail if called.
    for name in ("metrics_refresh", "health_refresh", "risk_refresh", "revenue_analytics_refresh", "renewals_open_due"):
        monkeypatch.setattr(f"tandem.daily.services.{name}", killed)
    resumed = daily_pipeline_run(acting_user=None, today=TODAY, run_key=key)

    assert resumed.run_id == run.pk
    assert [s.resumed for s in resumed.steps] == [True] * 7 + [False] * 3
    assert resumed.metrics.result.dates == [TODAY] and resumed.metrics.result.accounts == 2
    assert resumed.risk.result == RiskRefreshResult(as_of=TODAY, scored=2, model_version=MODEL_VERSION)
    assert resumed.renewals.result == RenewalsOpened(opened=1)
    assert resumed.rules.result.opened == 4
    assert {s.step: s.result for s in DailyRunStep.objects.filter(run=run, step__in=first)} == first
    assert DailyRunStep.objects.filter(run=run).count() == 10

    # Once finished, the same key runs nothing at all and reads every typed result back.
    for name in ("rules_evaluate", "ctas_advance", "digests_enqueue"):
        monkeypatch.setattr(f"tandem.daily.services.{name}", killed)
    before = state()
    done = daily_pipeline_run(acting_user=None, today=TODAY, run_key=key)
    assert [s.resumed for s in done.steps] == [True] * 10
    assert done.rules.result == resumed.rules.result
    assert done.ctas.result == resumed.ctas.result == CtaAdvanceResult(woken=0, waits_finished=2)
    assert done.digests.result == resumed.digests.result == DigestsQueued(day=TODAY, users=3, queued=3)
    assert done.health.result == resumed.health.result
    assert state() == before
    assert DailyRun.objects.count() == 1


def test_the_scheduled_job_runs_the_pipeline_under_its_day_key(world: None) -> None:
    job_function("playbooks.daily")(day=TODAY.isoformat())
    job_function("playbooks.daily")(day=TODAY.isoformat())  # retried after it finished: resumes, runs nothing

    run = DailyRun.objects.get()
    assert run.key == f"daily:{TODAY}"
    assert run.steps.count() == 10
    assert CallToAction.objects.count() == 4


def test_a_fresh_install_without_metrics_still_evaluates_rules_and_queues_digests(
    home: Path, event_store: EventStore
) -> None:
    user_create(acting_user=None, username="kim", password=None, email="kim@tandem.test", roles=["csm"])

    result = daily_pipeline_run(acting_user=None, today=TODAY)

    assert result.metrics.result == ComputeResult(dates=[], accounts=0, metrics=0, seconds=0.0)
    assert result.health.result.dates == 0
    assert result.risk.result == RiskRefreshResult(as_of=TODAY, scored=0, model_version="")
    assert result.digests.result == DigestsQueued(day=TODAY, users=1, queued=1)


def test_risk_refresh_takes_the_day_it_scores(home: Path, db: None) -> None:
    """The daily job used to fail on every attempt: risk_refresh() took no ``today``."""
    assert risk_refresh(today=TODAY) == RiskRefreshResult(as_of=TODAY, scored=0, model_version="")


def test_metrics_refresh_prints_one_line_per_step(world: None) -> None:
    result = CliRunner().invoke(app, ["metrics", "refresh", "--today", TODAY.isoformat()])

    assert result.exit_code == 0, result.output
    text = [" ".join(line.split()) for line in result.output.splitlines() if line.startswith("✓")]
    metrics = MetricDefinition.objects.filter(is_active=True).count()
    assert text[0].startswith(f"✓ Metrics metrics: {metrics}, accounts: 2 ")
    assert text[1].startswith("✓ Success milestones reached by their metric: 0 ")
    assert text[2].startswith("✓ Health scores scorecards: 1, accounts scored: 2 ")
    assert text[3].startswith(f"✓ Churn risk accounts scored: 2 (model {MODEL_VERSION}) ")
    assert text[4].startswith("✓ Segments segments: 0, accounts joined: 0, left: 0, plans started: 0 ")
    assert text[5].startswith("✓ Analytics cohorts: 2, segments fitted: 9, backtests: 1 ")
    assert text[6].startswith("✓ Renewals renewals opened: 1 ")
    assert text[7].startswith("✓ Rules rules: 2, matches: 4, calls to action opened: 4 ")
    assert text[8].startswith("✓ Calls to action waits finished: 2, snoozed calls to action woken: 0 ")
    assert text[9].startswith("✓ Daily digests users with a digest: 3, newly queued: 3 ")
    assert all(line.endswith(" s") for line in text)
    assert f"Daily pipeline for {TODAY} finished in " in result.output
    assert DailyRun.objects.get().steps.count() == 10
