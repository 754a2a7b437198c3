"""Writes of the risk domain: train, evaluate and score the churn model; ARR at risk."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from tandem import config
from tandem.core import bulk
from tandem.core.errors import DomainError, FieldError
from tandem.health.outcomes import account_outcomes, label_frame
from tandem.health.selectors import health_history, primary_scorecard
from tandem.metrics.models import MetricDefinition
from tandem.metrics.selectors import metric_history_frame, metric_snapshot_dates
from tandem.risk.model import ChurnModel, NotEnoughData, train_and_evaluate
from tandem.risk.models import AccountRisk

TIER_CODES = {"smb": 0.0, "mid_market": 1.0, "enterprise": 2.0}
DEFAULT_HORIZON = 90


def model_dir() -> Path:
    path = config.tandem_home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _model_path() -> Path:
    return model_dir() / "churn_model.pkl"


def _report_path() -> Path:
    return model_dir() / "churn_model.json"


def feature_frame(*, dates: list[dt.date] | None = None) -> pd.DataFrame:
    """Metrics (index as_of, account_id) plus the primary health score and the tier."""
    from tandem.accounts.models import Account

    keys = list(MetricDefinition.objects.filter(is_active=True).values_list("key", flat=True))
    frame = metric_history_frame(dates=dates, keys=keys)
    if frame.empty:
        return frame
    card = primary_scorecard()
    if card is not None:
        scores = health_history(scorecard_id=card.pk)
        if not scores.empty:
            s = scores.set_index(["as_of", "account_id"])["score"].rename("health_score")
            frame = frame.join(s, how="left")
    tiers = dict(Account.objects.values_list("id", "tier"))
    frame["tier"] = [TIER_CODES.get(tiers.get(a, ""), np.nan) for a in frame.index.get_level_values("account_id")]
    return frame


def risk_train(*, horizon_days: int = DEFAULT_HORIZON, today: dt.date | None = None) -> ChurnModel:
    """Train and evaluate on the stored history; saves the model and its evaluation report."""
    today = today or timezone.localdate()
    features = feature_frame()
    if features.empty:
        raise DomainError("No metric history.", [FieldError("metrics", "compute metric history first")])
    labels = label_frame(
        features.index, account_outcomes(today=today), horizon_days=horizon_days, include_contraction=False
    )
    try:
        model = train_and_evaluate(features, labels, horizon_days=horizon_days)
    except NotEnoughData as exc:
        raise DomainError(str(exc), [FieldError("history", str(exc))]) from exc
    model.version = timezone.now().strftime("%Y%m%d%H%M%S")
    risk_model_save(model=model, trained_on=today)
    return model


def risk_model_save(*, model: ChurnModel, trained_on: dt.date) -> None:
    """Make ``model`` the one the daily scoring uses, with its evaluation report beside it."""
    with _model_path().open("wb") as fh:
        pickle.dump(model, fh)
    evaluation = model.evaluation.as_dict() if model.evaluation is not None else {}
    _report_path().write_text(
        json.dumps({"version": model.version, "trained_on": str(trained_on), **evaluation}, indent=2)
    )


def risk_evaluate(*, horizon_days: int = DEFAULT_HORIZON, today: dt.date | None = None) -> ChurnModel:
    """Like risk_train, but saves nothing: the time-split evaluation against the baselines."""
    today = today or timezone.localdate()
    features = feature_frame()
    if features.empty:
        raise DomainError("No metric history.", [FieldError("metrics", "compute metric history first")])
    labels = label_frame(
        features.index, account_outcomes(today=today), horizon_days=horizon_days, include_contraction=False
    )
    try:
        return train_and_evaluate(features, labels, horizon_days=horizon_days)
    except NotEnoughData as exc:
        raise DomainError(str(exc), [FieldError("history", str(exc))]) from exc


def risk_load_model() -> ChurnModel | None:
    path = _model_path()
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return pickle.load(fh)


def risk_report() -> dict[str, Any] | None:
    path = _report_path()
    return json.loads(path.read_text()) if path.exists() else None


def _feature_names() -> dict[str, str]:
    names = dict(MetricDefinition.objects.values_list("key", "name"))
    names.update({"health_score": "Health score", "tier": "Tier"})  # English for logs; see risk.reasons
    return names


@transaction.atomic
def risk_score(*, as_of: dt.date | None = None, model: ChurnModel | None = None) -> int:
    """Score every account in the latest (or ``as_of``) snapshot and replace AccountRisk."""
    model = model or risk_load_model()
    if model is None:
        raise DomainError("No trained model.", [FieldError("model", "run `tandem model train` first")])
    dates = metric_snapshot_dates()
    if not dates:
        raise DomainError("No metric snapshots.", [FieldError("metrics", "run `tandem metrics compute` first")])
    day = as_of or dates[-1]
    frame = feature_frame(dates=[day])
    if frame.empty:
        return 0
    frame = frame.droplevel("as_of")
    for name in model.features:
        if name not in frame.columns:
            frame[name] = np.nan
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        probability = model.predict(frame)
        why = model.reasons(frame, labels=_feature_names())

    AccountRisk.objects.all().delete()
    # Prepared values through executemany (tandem.core.bulk): 100,000 model instances through
    # bulk_create spent most of the step building SQL in Python.
    as_json = bulk.json_adapter()
    day_value = bulk.db_value(AccountRisk, "as_of", day)
    bulk.executemany_rows(
        AccountRisk,
        ["account", "probability", "reasons", "as_of", "model_version"],
        (
            (int(a), round(float(p), 4), as_json(r), day_value, model.version)
            for a, p, r in zip(frame.index, probability, why, strict=True)
        ),
    )
    return len(frame)


@dataclass(frozen=True)
class RiskRefreshResult:
    """What the daily risk step did: how many accounts it scored, on which snapshot, with which model."""

    as_of: dt.date
    scored: int
    model_version: str  # "" when no model is trained yet (nothing scored)


def risk_refresh(*, today: dt.date | None = None) -> RiskRefreshResult:
    """Daily step (after metrics and health): score today's metric snapshot with the saved model.

    Nothing is scored while no model is trained or when there is no snapshot of ``today`` (no
    active metrics). Idempotent: scoring the same snapshot again replaces AccountRisk with the
    same rows.
    """
    today = today or timezone.localdate()
    model = risk_load_model()
    if model is None or today not in set(metric_snapshot_dates()):
        return RiskRefreshResult(as_of=today, scored=0, model_version=model.version if model else "")
    return RiskRefreshResult(as_of=today, scored=risk_score(as_of=today, model=model), model_version=model.version)


def arr_at_risk() -> dict[str, list[tuple[str, Decimal, Decimal, int]]]:
    """Expected ARR lost (probability x ARR) by tier, CSM and account manager: (name, at risk, ARR, accounts).

    Live accounts only: an archived one is no longer in the book. Three grouped aggregates in the
    database (not a loop over every scored account in Python, which took a second on the health
    page at 10,000 accounts)."""
    from django.db.models import Count, ExpressionWrapper, F, FloatField, Sum

    from tandem.accounts.models import Tier, live_account_q
    from tandem.core.money import to_cents
    from tandem.users.models import User

    tiers = dict(Tier.choices)
    at_risk = ExpressionWrapper(F("account__arr") * F("probability"), output_field=FloatField())
    out: dict[str, list[tuple[str, Decimal, Decimal, int]]] = {}
    for key, field in (("tier", "account__tier"), ("csm", "account__csm_owner"), ("am", "account__am_owner")):
        rows = list(
            AccountRisk.objects.filter(live_account_q())
            .values(field)
            .annotate(risk=Sum(at_risk), arr=Sum("account__arr"), n=Count("pk"))
            .order_by()
        )
        users = User.objects.in_bulk([r[field] for r in rows if r[field]]) if key != "tier" else {}
        merged: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        for r in rows:
            if key == "tier":
                name = str(tiers.get(r[field], r[field]))
            else:
                name = str(users[r[field]]) if r[field] in users else "—"
            g = merged[name]
            g[0] += Decimal(str(r["risk"] or 0))
            g[1] += to_cents(Decimal(str(r["arr"] or 0)))
            g[2] += r["n"]
        out[key] = sorted(
            ((n, v[0].quantize(Decimal("1")), v[1], v[2]) for n, v in merged.items()), key=lambda t: -t[1]
        )
    return out
