"""Churn and contraction, derived from subscription history, and labels for backtests and models.

Definitions (docs/health.md):

* An account **churns** on the end date of a term when no next term starts within the grace
  period (``TANDEM_CHURN_GRACE_DAYS``, default 30) after it, and that end date plus the grace period
  has passed. Terms that are ended or canceled with no successor count; an evergreen term with
  no end date never churns.
* An account **contracts** on the start of a renewal term (one starting within the grace period
  of the previous term's end) that has fewer seats (plan line quantities) than the previous term.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pandas as pd

from tandem import config

DEFAULT_GRACE_DAYS = 30


def grace_days() -> int:
    return int(config.env_str("CHURN_GRACE_DAYS", str(DEFAULT_GRACE_DAYS)))


@dataclass(frozen=True)
class Outcomes:
    churn_on: dict[int, dt.date]
    contractions: dict[int, list[dt.date]]
    data_end: dt.date


def account_outcomes(*, today: dt.date, grace: int | None = None) -> Outcomes:
    """Churn date and contraction dates of every account, as known on ``today``."""
    from tandem.subscriptions.models import ProductKind, Subscription, SubscriptionItem

    grace = grace_days() if grace is None else grace
    seats: dict[int, Decimal] = defaultdict(Decimal)
    for sub_id, qty in SubscriptionItem.objects.filter(product__kind=ProductKind.PLAN).values_list(
        "subscription_id", "quantity"
    ):
        seats[sub_id] += qty
    terms: dict[int, list[tuple[dt.date, dt.date | None, Decimal]]] = defaultdict(list)
    for sub_id, account_id, start, end in Subscription.objects.values_list(
        "id", "account_id", "start_date", "end_date"
    ):
        terms[account_id].append((start, end, seats.get(sub_id, Decimal(0))))
    churn_on: dict[int, dt.date] = {}
    contractions: dict[int, list[dt.date]] = defaultdict(list)
    window = dt.timedelta(days=grace)
    for account_id, rows in terms.items():
        rows.sort(key=lambda r: r[0])
        if any(end is None for _s, end, _q in rows):
            latest_end = None
        else:
            latest_end = max(end for _s, end, _q in rows if end is not None)
        for prev, nxt in pairwise(rows):
            if prev[1] is not None and nxt[0] <= prev[1] + window and nxt[2] < prev[2]:
                contractions[account_id].append(nxt[0])
        if latest_end is not None and latest_end + window <= today:
            churn_on[account_id] = latest_end
    return Outcomes(churn_on=churn_on, contractions=dict(contractions), data_end=today)


def label_frame(
    index: pd.MultiIndex, outcomes: Outcomes, *, horizon_days: int, include_contraction: bool
) -> pd.DataFrame:
    """For (as_of, account_id) observations whose horizon has passed: ``label`` 1 if the account
    churned (or contracted, when included) within ``horizon_days`` after ``as_of``."""
    df = index.to_frame(index=False)
    df["as_of"] = pd.to_datetime(df["as_of"])
    end = df["as_of"] + pd.Timedelta(days=horizon_days)
    df = df.loc[end <= pd.Timestamp(outcomes.data_end)].copy()
    end = df["as_of"] + pd.Timedelta(days=horizon_days)
    churn = pd.to_datetime(df["account_id"].map(outcomes.churn_on))
    churned = (churn > df["as_of"]) & (churn <= end)
    label = churned.to_numpy()
    if include_contraction:
        contracted = np.zeros(len(df), dtype=bool)
        for i, (account_id, start, stop) in enumerate(zip(df["account_id"], df["as_of"], end, strict=True)):
            for day in outcomes.contractions.get(account_id, ()):
                ts = pd.Timestamp(day)
                if start < ts <= stop:
                    contracted[i] = True
                    break
        label = label | contracted
    df["label"] = label.astype(int)
    df["churned"] = churned.astype(int).to_numpy()
    df["as_of"] = df["as_of"].dt.date
    return df.set_index(["as_of", "account_id"])
