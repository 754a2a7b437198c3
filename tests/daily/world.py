"""A small company for the daily pipeline's tests, relative to a given day.

Built in-process by test_services.py and in a subprocess (``scenario.py setup``) by the process
tests. Everything each pipeline step needs is there, so each one leaves something:

* metrics: the shipped generic definitions (seats, MRR, tenure, tickets, events...);
* health: the shipped "Overall health" scorecard;
* risk: a churn model trained (for real, on a synthetic history) over some of those metrics;
* renewals: Globex's term ends in 30 days (mid-market lead time 120), Initech's in 165 (SMB: 90);
* rules: "Scored today" (every health band) runs a playbook that waits until the day it opened,
  then emails the customer and leaves a task; "Any churn risk" (above 0 %) opens a task only;
* CTA advance: finishes those waits on the same day, which queues the emails;
* digests: kim, ana and max have email addresses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd

from tandem.accounts.models import Account, Contact, Tier
from tandem.health.services import scorecards_install_defaults
from tandem.metrics.services import metrics_install_defaults
from tandem.playbooks.models import EmailTemplate, Playbook, PlaybookStep, Rule
from tandem.risk.model import train_and_evaluate
from tandem.risk.services import risk_model_save
from tandem.subscriptions.models import BillingPeriod, Product
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create
from tandem.users.services import user_create
from tests.factories import as_fixture

MODEL_VERSION = "test-model"
MODEL_FEATURES = ["events_28d", "active_users_28d", "seats", "tenure_days", "open_tickets", "health_score", "tier"]
USERS = {"kim": "csm", "ana": "account_manager", "max": "cs_manager"}


def build_world(*, today: dt.date) -> None:
    """The scenario's accounts, people, contracts, metrics, scorecards, churn model and rules (test set-up)."""
    with as_fixture():
        _build_world(today=today)


def _build_world(*, today: dt.date) -> None:
    users = {
        name: user_create(acting_user=None, username=name, password=None, email=f"{name}@tandem.test", roles=[role])
        for name, role in USERS.items()
    }
    seat = Product.objects.create(code="seat", name="Seat")
    for name, tier, started, ends in (
        ("Globex", Tier.MID_MARKET, today - dt.timedelta(days=335), today + dt.timedelta(days=30)),
        ("Initech", Tier.SMB, today - dt.timedelta(days=200), today + dt.timedelta(days=165)),
    ):
        account = Account.objects.create(
            name=name,
            external_id=f"acct-{name.lower()}",
            tier=tier,
            currency="USD",
            start_date=started,
            csm_owner=users["kim"],
            am_owner=users["ana"],
        )
        Contact.objects.create(
            account=account, first_name=name[0], last_name="Buyer", email=f"buyer@{name.lower()}.example"
        )
        subscription_create(
            acting_user=None,
            account=account,
            start_date=started,
            end_date=ends,
            renewal_date=ends + dt.timedelta(days=1),
            billing_period=BillingPeriod.ANNUAL,
            items=[SubscriptionItemInput(product=seat, quantity=Decimal(10), unit_price=Decimal(1200))],
        )
    metrics_install_defaults(acting_user=None)
    scorecards_install_defaults(acting_user=None)
    model = train_and_evaluate(*_synthetic_history(), horizon_days=30)
    model.version = MODEL_VERSION
    risk_model_save(model=model, trained_on=today)

    hello = EmailTemplate.objects.create(
        key="check-in", name="Check-in", subject="How is {{ account.name }} doing?", body="Hi {{ contact.first_name }}"
    )
    daily = Playbook.objects.create(key="daily-check", name="Daily check")
    PlaybookStep.objects.create(playbook=daily, position=0, kind="wait", title="Wait for the day", due_offset_days=0)
    PlaybookStep.objects.create(
        playbook=daily, position=1, kind="email", title="Check in", email_template=hello, auto_send=True
    )
    PlaybookStep.objects.create(playbook=daily, position=2, kind="task", title="Call the champion")
    Rule.objects.create(
        name="Scored today",
        trigger="health_band",
        params={"bands": ["poor", "neutral", "good"]},
        playbook=daily,
        cta_type="lifecycle",  # a check-in, not a second risk CTA (one open CTA per account and type)
    )
    review = Playbook.objects.create(key="risk-review", name="Risk review")
    PlaybookStep.objects.create(playbook=review, position=0, kind="task", title="Review the drivers")
    Rule.objects.create(name="Any churn risk", trigger="churn_risk_above", params={"percent": 0}, playbook=review)


def _synthetic_history(dates: int = 10, accounts: int = 300, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features named like the shipped metrics, and churn labels that low usage makes likely."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for d in range(dates):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=30 * d)
        for a in range(accounts):
            usage = rng.normal()
            churn = 1 / (1 + np.exp(3 + 1.5 * usage))
            rows.append(
                (
                    day,
                    a,
                    max(0.0, 400 + 150 * usage),
                    max(0.0, 5 + 2 * usage),
                    10.0,
                    float(rng.integers(30, 900)),
                    float(rng.poisson(1)),
                    60 + 15 * usage + rng.normal(0, 10),
                    float(rng.integers(0, 3)),
                )
            )
            labels.append((day, a, int(rng.random() < churn)))
    features = pd.DataFrame(rows, columns=["as_of", "account_id", *MODEL_FEATURES]).set_index(["as_of", "account_id"])
    label_frame = pd.DataFrame(labels, columns=["as_of", "account_id", "label"]).set_index(["as_of", "account_id"])
    return features, label_frame
