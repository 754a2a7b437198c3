"""`tandem model ...`: train, evaluate and score the churn-risk model."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from tandem.health.cli import AS_OF_HELP

model_app = typer.Typer(help="The churn-risk model.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


def _print_evaluation(e: dict[str, Any], *, as_of_given: bool) -> None:
    from tandem.cli.app import console
    from tandem.health.cli import data_through_line

    if e.get("data_through"):
        console.print(data_through_line(day=e["data_through"], given=as_of_given), soft_wrap=True)
    console.print(
        f"Horizon {e['horizon_days']} days. Train {e['train_dates'][0]}..{e['train_dates'][1]} "
        f"({e['train_observations']:,} obs, {e['train_positives']:,} churned); "
        f"test {e['test_dates'][0]}..{e['test_dates'][1]} "
        f"({e['test_observations']:,} obs, {e['test_positives']:,} churned)."
    )
    console.print(f"{'':<22}{'ROC AUC':>9}{'PR AUC':>9}{'lift@10%':>10}{'Brier':>9}")
    for label, key in (
        ("model (boosted trees)", "model"),
        ("health score alone", "health_score"),
        ("logistic regression", "logistic_regression"),
    ):
        s = e.get(key)
        if not s:
            continue
        fmt = lambda v, p=3: "—" if v is None else f"{v:.{p}f}"  # noqa: E731
        console.print(
            f"{label:<22}{fmt(s['roc_auc']):>9}{fmt(s['pr_auc']):>9}"
            f"{fmt(s['top_decile_lift'], 2):>10}{fmt(s['brier'], 4):>9}"
        )


def _run(what: str, horizon: str, as_json: bool, as_of: str | None = None) -> None:
    from tandem.cli.app import console, fail, setup_django
    from tandem.health.cli import parse_as_of
    from tandem.metrics.cli import parse_days

    setup_django()
    through = parse_as_of(as_of)
    from tandem.core.errors import DomainError
    from tandem.health.outcomes import observed_through
    from tandem.risk import services

    try:
        if what == "score":
            n = services.risk_score()
            data: dict[str, Any] = {
                "scored": n,
                "arr_at_risk": {
                    k: [[a, str(b), str(c), d] for a, b, c, d in v] for k, v in services.arr_at_risk().items()
                },
            }
            if as_json:
                console.print_json(json.dumps(data))
            else:
                console.print(f"Scored {n:,} accounts.")
                for name, risk, arr, count in services.arr_at_risk()["tier"]:
                    console.print(f"  {name:<14} ARR at risk {risk:>14,}  of {arr:>14,} ({count} accounts)")
            return
        # The services label churn through tandem.health.outcomes; the given date bounds it there.
        with observed_through(through):
            model = (
                services.risk_train(horizon_days=parse_days(horizon))
                if what == "train"
                else services.risk_evaluate(horizon_days=parse_days(horizon))
            )
    except DomainError as exc:
        fail(f"{exc} {'; '.join(e.message for e in exc.errors)}", code=3)
        return
    assert model.evaluation is not None  # training and evaluating both evaluate
    evaluation = model.evaluation.as_dict()
    if as_json:
        console.print_json(json.dumps(evaluation))
    else:
        if what == "train":
            console.print(f"Trained model {model.version} on {len(model.features)} features.")
        _print_evaluation(evaluation, as_of_given=through is not None)


@model_app.command("train")
def train(
    horizon: Annotated[str, typer.Option(help="Churn within this many days, e.g. 90d.")] = "90d",
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Train on the metric history (time-based split), save the model and its evaluation."""
    _run("train", horizon, as_json, as_of)


@model_app.command("evaluate")
def evaluate(
    horizon: Annotated[str, typer.Option(help="Churn within this many days, e.g. 90d.")] = "90d",
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate on held-out later dates against the health score alone and a logistic regression (saves nothing)."""
    _run("evaluate", horizon, as_json, as_of)


@model_app.command("score")
def score(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Score every current account with the saved model; prints ARR at risk by tier."""
    _run("score", "90d", as_json)
