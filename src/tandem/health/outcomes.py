"""Churn and contraction, derived from subscription history, and labels for backtests and models.

Definitions (docs/health.md):

* An account **churns** on the end date of a term when no next term starts within the grace
  period (``TANDEM_CHURN_GRACE_DAYS``, default 30) after it, and that end date plus the grace period
  has passed. Terms that are ended or canceled with no successor count; an evergreen term with
  no end date never churns.
* An account **contracts** on the start of a renewal term (one starting within the grace period
  of the previous term's end) that has fewer seats (plan line quantities) than the previous term.

**Data through.** Churn is the absence of a next term, so it can only be seen as far as the
subscription history reaches. A billing export that ends on some day (or an old copy of the
database) has no renewal signed after that day, and every term ending after it would look like
churn. Outcomes are therefore known up to a *data-through* date: by default the latest start of a
term on or before today (``data_through``), since a new or renewed term is the latest fact a
billing history records; end dates are schedules, and an import marks a term "ended" by the day it
ran, not by the data. It can be given instead (``--as-of``, ``observed_through``). A churn counts
only when its end date plus the grace period is on or before that date, and an observation
(as_of D) is labelled only when D + horizon is.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pandas as pd

from tandem import config

DEFAULT_GRACE_DAYS = 30
_given_through: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("observed_through", default=None)


def grace_days() -> int:
    return int(config.env_str("CHURN_GRACE_DAYS", str(DEFAULT_GRACE_DAYS)))


@dataclass(frozen=True)
class Outcomes:
    """Churn and contraction dates per account, known up to ``data_end`` (the data-through date)."""

    churn_on: dict[int, dt.date]
    contractions: dict[int, list[dt.date]]
    data_end: dt.date
    data_end_given: bool = False  # True: from --as-of / observed_through; False: derived from the data


def data_through(*, today: dt.date) -> dt.date:
    """The day the subscription history is known to reach: the latest term start on or before
    ``today`` (``today`` itself when there is no term yet)."""
    from django.db.models import Max

    from tandem.subscriptions.models import Subscription

    latest = Subscription.objects.filter(start_date__lte=today).aggregate(latest=Max("start_date"))["latest"]
    return latest or today


@contextlib.contextmanager
def observed_through(day: dt.date | None) -> Iterator[None]:
    """Within the block, ``account_outcomes`` without ``through`` uses ``day`` as the data-through
    date (``None``: derive it from the data). For callers that reach it through a service that does
    not take the date itself (``tandem model train --as-of``)."""
    token = _given_through.set(day)
    try:
        yield
    finally:
        _given_through.reset(token)


def account_outcomes(*, today: dt.date, grace: int | None = None, through: dt.date | None = None) -> Outcomes:
    """Churn date and contraction dates of every account, as known through ``through`` (default:
    the date given to ``observed_through``, else ``data_through(today=today)``)."""
    from tandem.subscriptions.models import ProductKind, Subscription, SubscriptionItem

    grace = grace_days() if grace is None else grace
    given = through if through is not None else _given_through.get()
    data_end = given if given is not None else data_through(today=today)
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
        # A term ending after the data-through date (or within the grace period before it) may
        # still be renewed: the data cannot tell, so it is not churn.
        if latest_end is not None and latest_end + window <= data_end:
            churn_on[account_id] = latest_end
    return Outcomes(
        churn_on=churn_on, contractions=dict(contractions), data_end=data_end, data_end_given=given is not None
    )


def label_frame(index: pd.Index, outcomes: Outcomes, *, horizon_days: int, include_contraction: bool) -> pd.DataFrame:
    """For (as_of, account_id) observations whose horizon ends on or before the data-through date
    (``outcomes.data_end``): ``label`` 1 if the account churned (or contracted, when included) within
    ``horizon_days`` after ``as_of``. The frame's ``attrs["data_through"]`` is that date (ISO)."""
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
    out = df.set_index(["as_of", "account_id"])
    out.attrs["data_through"] = outcomes.data_end.isoformat()
    return out
