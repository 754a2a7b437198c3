"""Churn-risk triggers on the risk domain's real selector: above a threshold, and a rise over D days."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.core.errors import DomainError
from tandem.playbooks.models import CallToAction, ChurnRiskSample
from tandem.playbooks.providers import Providers, default_providers
from tandem.playbooks.rules import CHURN_HISTORY_DAYS, EvalContext
from tandem.playbooks.services import churn_risk_history_record, rule_preview, rule_save, rules_evaluate
from tandem.risk.models import AccountRisk
from tandem.risk.selectors import account_risk_current
from tests.factories import AccountFactory
from tests.playbooks.helpers import playbook_with, rule_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 30)
RISK_ONLY = Providers(risk=account_risk_current)


def score(account, probability: float, as_of: dt.date, reasons: list | None = None) -> None:
    """What the risk domain's daily scoring leaves behind: one current row per account."""
    AccountRisk.objects.update_or_create(
        account=account,
        defaults={"probability": probability, "reasons": reasons or [], "as_of": as_of, "model_version": "t"},
    )


def opened(rule) -> dict[int, str]:
    return dict(CallToAction.objects.filter(rule=rule).values_list("account_id", "reason"))


def test_churn_risk_above_a_threshold_with_the_main_driver() -> None:
    risky, calm = AccountFactory(), AccountFactory()
    score(risky, 0.62, TODAY, [{"text": "Logins down 40%"}, {"text": "Open tickets 7"}])
    score(calm, 0.20, TODAY)
    assert default_providers().risk is account_risk_current
    rule = rule_for("churn_risk_above", {"percent": 50})

    rules_evaluate(acting_user=None, today=TODAY, providers=RISK_ONLY)

    assert opened(rule) == {risky.pk: "Churn risk is 62% (above 50%). Main driver: Logins down 40%."}
    preview = rule_preview(
        trigger="churn_risk_above", params={"percent": 10}, conditions=[], today=TODAY, providers=RISK_ONLY
    )
    assert preview.count == 2 and {a["id"] for a in preview.accounts} == {risky.pk, calm.pk}
    # The same threshold as a condition on another trigger.
    cond = rule_preview(
        trigger="churn_risk_above",
        params={"percent": 10},
        conditions=[{"risk": "probability", "op": "gte", "value": 0.5}],
        today=TODAY,
        providers=RISK_ONLY,
    )
    assert [a["id"] for a in cond.accounts] == [risky.pk]


def test_churn_risk_rise_compares_with_the_history_rule_evaluations_record() -> None:
    rising, steady, newcomer = AccountFactory(), AccountFactory(), AccountFactory()
    rule = rule_for("churn_risk_rise", {"points": 15, "days": 30})
    month_ago = TODAY - dt.timedelta(days=30)
    score(rising, 0.10, month_ago)
    score(steady, 0.40, month_ago)

    # The first evaluation has no history to compare with: it records today's scores only.
    first = rules_evaluate(acting_user=None, today=month_ago, providers=RISK_ONLY)
    assert first.rules[0].unavailable.startswith("No churn-risk history from 30 days ago yet")
    assert set(ChurnRiskSample.objects.values_list("account_id", "as_of", "probability")) == {
        (rising.pk, month_ago, 0.10),
        (steady.pk, month_ago, 0.40),
    }

    score(rising, 0.31, TODAY)
    score(steady, 0.50, TODAY)
    score(newcomer, 0.90, TODAY)  # never scored before: nothing to compare with
    rules_evaluate(acting_user=None, today=TODAY, providers=RISK_ONLY)

    assert opened(rule) == {rising.pk: f"Churn risk rose 21 points, from 10% on {month_ago} to 31%."}
    assert ChurnRiskSample.objects.filter(as_of=TODAY).count() == 3
    # Idempotent: the same scoring day is recorded once, and nothing opens twice.
    assert churn_risk_history_record(ctx=EvalContext(today=TODAY, providers=RISK_ONLY)) == 0
    assert rules_evaluate(acting_user=None, today=TODAY, providers=RISK_ONLY).opened == 0


def test_old_samples_are_dropped_and_missing_risk_module_is_reported() -> None:
    account = AccountFactory()
    old = TODAY - dt.timedelta(days=CHURN_HISTORY_DAYS + 1)
    ChurnRiskSample.objects.create(account=account, as_of=old, probability=0.2)
    score(account, 0.3, TODAY)
    assert churn_risk_history_record(ctx=EvalContext(today=TODAY, providers=RISK_ONLY)) == 1
    assert list(ChurnRiskSample.objects.values_list("as_of", flat=True)) == [TODAY]

    preview = rule_preview(
        trigger="churn_risk_above", params={"percent": 50}, conditions=[], today=TODAY, providers=Providers()
    )
    assert (preview.count, preview.unavailable) == (
        0,
        "Churn risk is not available (the risk module is not installed).",
    )


@pytest.mark.parametrize(
    ("trigger", "params", "message"),
    [
        ("churn_risk_above", {"percent": 150}, "percent must be a number from 0 to 100."),
        ("churn_risk_above", {"percent": "high"}, "percent must be a number from 0 to 100."),
        ("churn_risk_rise", {"days": 0}, "days must be a number from 1 to 90."),
        ("churn_risk_rise", {"points": 0}, "points must be a number from 1 to 100."),
    ],
)
def test_out_of_range_parameters_are_refused_naming_the_field(trigger, params, message) -> None:
    with pytest.raises(DomainError) as exc:
        rule_save(acting_user=None, name="Bad", trigger=trigger, params=params, playbook=playbook_with())
    assert [(e.field, str(e.message)) for e in exc.value.errors] == [("params", message)]
