"""Reads of churn risk: the current probability per account and the trained model's report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tandem.notifications.messages import Message
from tandem.risk.models import AccountRisk
from tandem.risk.reasons import reason_message


@dataclass(frozen=True)
class RiskSnapshot:
    """An account's current churn probability and the features that push it up."""

    probability: float
    reasons: list[Message | str]  # str() renders each in the active language
    as_of: dt.date


def account_risk_current(*, account_ids: Iterable[int] | None = None) -> dict[int, RiskSnapshot]:
    """Current churn risk per account (accounts never scored are absent)."""
    qs = AccountRisk.objects.all()
    if account_ids is not None:
        qs = qs.filter(account_id__in=list(account_ids))
    return {
        row.account_id: RiskSnapshot(
            probability=row.probability,
            reasons=[reason_message(r) for r in row.reasons if r],
            as_of=row.as_of,
        )
        for row in qs
    }
