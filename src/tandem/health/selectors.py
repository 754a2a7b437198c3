"""Reads of health scores: current values (Django) and history (Parquet snapshots)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from django.db.models import QuerySet

from tandem.health.models import AccountHealth, HealthScoreCurrent, Scorecard
from tandem.metrics import store

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

KIND = "health"


@dataclass(frozen=True)
class HealthSnapshot:
    """An account's current score on the primary scorecard."""

    score: float
    band: str
    as_of: dt.date
    change_7d: float | None
    change_30d: float | None


def account_health_current(*, account_ids: Iterable[int] | None = None) -> dict[int, HealthSnapshot]:
    """Current primary-scorecard health per account (accounts never scored are absent)."""
    qs = AccountHealth.objects.all()
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    return {
        row.account_id: HealthSnapshot(
            score=row.score, band=row.band, as_of=row.as_of, change_7d=row.change_7d, change_30d=row.change_30d
        )
        for row in qs
    }


def health_portfolio(*, user: User | AnonymousUser) -> QuerySet[AccountHealth]:
    """Current health of the live accounts this person may see: the health portfolio's rows.

    Archived accounts are no longer part of the book; their scores stay in the history."""
    from tandem.access.scoping import restrict
    from tandem.accounts.models import live_account_q

    return restrict(AccountHealth.objects.filter(live_account_q()), user=user)


def primary_scorecard() -> Scorecard | None:
    return Scorecard.objects.filter(is_primary=True, is_active=True).first()


def account_scores_current(*, account_id: int) -> list[HealthScoreCurrent]:
    """Every scorecard's current score of one account, primary first."""
    return list(
        HealthScoreCurrent.objects.filter(account_id=account_id, scorecard__is_active=True)
        .select_related("scorecard")
        .order_by("-scorecard__is_primary", "scorecard__name")
    )


def health_history(*, scorecard_id: int, account_ids: list[int] | None = None) -> pd.DataFrame:
    """Stored scores (as_of, account_id, score, band) of a scorecard, oldest first."""
    where = "scorecard_id = ?"
    params: list[object] = [scorecard_id]
    if account_ids is not None:
        where += " AND list_contains(?, account_id)"
        params.append(account_ids)
    table = store.read_snapshots(KIND, where=where, params=params, columns="as_of, account_id, score, band")
    if table.num_rows == 0:
        return pd.DataFrame(columns=["as_of", "account_id", "score", "band"])
    return table.to_pandas().sort_values(["as_of", "account_id"]).reset_index(drop=True)


def account_health_trend(*, account_id: int) -> list[tuple[dt.date, float]]:
    """(as_of, score) of one account on the primary scorecard, oldest first; empty without one."""
    card = primary_scorecard()
    if card is None:
        return []
    history = health_history(scorecard_id=card.pk, account_ids=[account_id])
    return [(as_of, float(score)) for as_of, score in zip(history["as_of"], history["score"], strict=True)]


def health_dates() -> list[dt.date]:
    return store.snapshot_dates(KIND)
