"""Backtests and scorecard previews as worker computations (tandem.jobs.computations).

The daily pipeline stores each active scorecard's default backtest (90 days, data through the
latest term start) with :func:`health_backtests_store`; the backtest page reads it. Other options,
and the preview of an unsaved edit, run on a worker while the page shows their progress.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.core.errors import DomainError
from tandem.health import backtest as bt
from tandem.health.scoring import MeasureSpec, ScorecardSpec
from tandem.jobs.computations import Output, Progress, computation_store
from tandem.jobs.models import Computation

DEFAULT_HORIZON = 90


def spec_to_json(spec: ScorecardSpec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


def spec_from_json(data: dict[str, Any]) -> ScorecardSpec:
    return ScorecardSpec(**{**data, "measures": tuple(MeasureSpec(**m) for m in data["measures"])})


def backtest_key(spec: ScorecardSpec, *, horizon: int, through: dt.date | None, today: dt.date) -> str:
    """One key per scorecard version, options and day: an edit or a new day computes it again."""
    digest = hashlib.sha1(json.dumps(spec_to_json(spec), sort_keys=True).encode()).hexdigest()[:16]
    return f"health.backtest:{spec.id}:{digest}:{horizon}:{through.isoformat() if through else ''}:{today.isoformat()}"


def report_from_json(data: dict[str, Any]) -> bt.BacktestReport:
    return bt.BacktestReport(
        **{
            **data,
            "calibration": [bt.CalibrationRow(**r) for r in data["calibration"]],
            "measures": [bt.MeasurePower(**m) for m in data["measures"]],
            "roc": [tuple(p) for p in data["roc"]],
        }
    )


def suggestion_from_json(data: dict[str, Any] | None) -> bt.SuggestReport | None:
    if not data:
        return None
    return bt.SuggestReport(
        **{
            **data,
            "weights": [bt.WeightSuggestion(**w) for w in data["weights"]],
            "current_test": report_from_json(data["current_test"]),
            "suggested_test": report_from_json(data["suggested_test"]),
        }
    )


def _backtest_output(spec: ScorecardSpec, *, horizon: int, through: dt.date | None, today: dt.date) -> Output:
    from tandem.health.services import health_backtest

    try:
        out = health_backtest(
            scorecard=spec, horizon_days=horizon, data_through=through, today=today, with_suggestion=True
        )
    except DomainError as exc:
        return Output(result={"error": str(exc)})
    suggestion = out["suggestion"]
    return Output(
        result={
            "report": out["report"].as_dict(),
            "suggestion": dataclasses.asdict(suggestion) if suggestion is not None else None,
        }
    )


def backtest_params(spec: ScorecardSpec, *, horizon: int, through: dt.date | None, today: dt.date) -> dict[str, Any]:
    return {
        "spec": spec_to_json(spec),
        "horizon": horizon,
        "through": through.isoformat() if through else None,
        "today": today.isoformat(),
    }


def backtest_compute(params: dict[str, Any], progress: Progress) -> Output:
    progress(10, _("Replaying the scorecard over the metric history"))
    return _backtest_output(
        spec_from_json(params["spec"]),
        horizon=int(params["horizon"]),
        through=dt.date.fromisoformat(params["through"]) if params.get("through") else None,
        today=dt.date.fromisoformat(params["today"]),
    )


def backtest_context(row: Computation) -> dict[str, Any]:
    """What the backtest template shows, from a finished computation."""
    from tandem.health import charts

    if row.result.get("error"):
        return {"error": row.result["error"]}
    report = report_from_json(row.result["report"])
    context: dict[str, Any] = {
        "report": report,
        "suggestion": suggestion_from_json(row.result.get("suggestion")),
        "horizon": report.horizon_days,
        "data_through": dt.date.fromisoformat(report.data_through) if report.data_through else None,
        "computation": row,
    }
    if report.auc is not None:
        context["charts"] = [
            charts.roc_chart(report.roc, _("ROC curve (low score = predicted churn)")),
            charts.calibration_chart(report.calibration),
            charts.measure_auc_chart(report.measures),
        ]
    return context


def backtest_render(request: HttpRequest, row: Computation) -> HttpResponse:
    return render(request, "health/_backtest_result.html", backtest_context(row))


def health_backtests_store(*, today: dt.date | None = None) -> int:
    """The daily pipeline: store the default backtest of every active scorecard (idempotent)."""
    from tandem.health.models import Scorecard
    from tandem.health.services import scorecard_spec

    today = today or timezone.localdate()
    stored = 0
    for card in Scorecard.objects.filter(is_active=True).order_by("id"):
        spec = scorecard_spec(card)
        output = _backtest_output(spec, horizon=DEFAULT_HORIZON, through=None, today=today)
        computation_store(
            kind="health.backtest",
            key=backtest_key(spec, horizon=DEFAULT_HORIZON, through=None, today=today),
            params=backtest_params(spec, horizon=DEFAULT_HORIZON, through=None, today=today),
            output=output,
        )
        stored += 1
    return stored


# --- the preview of an unsaved edit -----------------------------------------------------------------


def preview_compute(params: dict[str, Any], progress: Progress) -> Output:
    from tandem.health.services import health_backtest, health_preview

    saved, edited = spec_from_json(params["saved"]), spec_from_json(params["edited"])
    progress(5, _("Scoring the latest snapshot with the saved scorecard"))
    before = health_preview(spec=saved)
    progress(20, _("Scoring the latest snapshot with the edited scorecard"))
    after = health_preview(spec=edited)
    changed = 0
    if len(before["scores"]) and len(after["scores"]):
        diff = (after["scores"] - before["scores"]).abs()
        changed = int((diff >= 5).sum())
    result: dict[str, Any] = {
        "before": {str(k): int(v) for k, v in before["bands"].items()},
        "after": {str(k): int(v) for k, v in after["bands"].items()},
        "changed": changed,
        "bt_before": None,
        "bt_after": None,
    }
    try:
        progress(40, _("Backtesting the saved scorecard"))
        bt_before = health_backtest(scorecard=saved)["report"]
        progress(70, _("Backtesting the edited scorecard"))
        bt_after = health_backtest(scorecard=edited)["report"]
    except DomainError:
        pass
    else:
        result["bt_before"] = {"auc": bt_before.auc, "top_decile_lift": bt_before.top_decile_lift}
        result["bt_after"] = {"auc": bt_after.auc, "top_decile_lift": bt_after.top_decile_lift}
    return Output(result=result)


def preview_render(request: HttpRequest, row: Computation) -> HttpResponse:
    from tandem.health.models import Band

    r = row.result
    context = {
        "band_rows": [(v, label, r["before"].get(v, 0), r["after"].get(v, 0)) for v, label in Band.choices],
        "changed": r["changed"],
        "bt_before": r["bt_before"],
        "bt_after": r["bt_after"],
    }
    return render(request, "health/_preview.html", context)
