"""`tandem revenue ...`, `tandem retention ...`, `tandem renewals ...` and `tandem report ...`.

Thin: parse options, call one selector or service, print. Exit codes: 0 ok, 2 usage error.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tandem.cli.app import console, fail, setup_django

revenue_app = typer.Typer(name="revenue", help="Revenue retention analytics (docs/revenue.md).", no_args_is_help=True)
retention_app = typer.Typer(
    name="retention", help="Cohort retention and the shifted-beta-geometric model.", no_args_is_help=True
)
renewals_app = typer.Typer(name="renewals", help="Renewal opportunities.", no_args_is_help=True)
report_app = typer.Typer(name="report", help="Account status reports and QBR packs.", no_args_is_help=True)


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not a date (YYYY-MM-DD).", code=2)
        raise  # unreachable: fail() exits


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.000001")))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def summary_json(s: Any) -> dict[str, Any]:
    return {
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "opening_mrr": str(s.opening_mrr),
        "new": str(s.new),
        "expansion": str(s.expansion),
        "reactivation": str(s.reactivation),
        "contraction": str(s.contraction),
        "churn": str(s.churn),
        "closing_mrr": str(s.closing_mrr),
        "opening_arr": str(s.opening_arr),
        "closing_arr": str(s.closing_arr),
        "opening_customers": s.opening_customers,
        "closing_customers": s.closing_customers,
        "new_customers": s.new_customers,
        "reactivated_customers": s.reactivated_customers,
        "churned_customers": s.churned_customers,
        "logo_churn_rate": _ratio(s.logo_churn_rate),
        "gross_revenue_churn_rate": _ratio(s.gross_revenue_churn_rate),
        "grr": _ratio(s.grr),
        "nrr": _ratio(s.nrr),
    }


@revenue_app.command("summary")
def revenue_summary_command(
    date_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    date_to: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    by: Annotated[str | None, typer.Option("--by", help="tier, csm, am, cohort or currency.")] = None,
    granularity: Annotated[str, typer.Option("--granularity", help="month, quarter or year.")] = "month",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """MRR movements, logo churn, gross revenue churn, GRR and NRR for a date range."""
    setup_django()
    from tandem.core.errors import DomainError
    from tandem.revenue.selectors import revenue_summary

    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        report = revenue_summary(start=start, end=end, by=by, granularity=granularity)
    except DomainError as exc:
        fail(str(exc), code=2)
    if as_json:
        payload = {
            "currency": report.currency,
            "rates_on": report.rates_on.isoformat(),
            "total": summary_json(report.total),
            "periods": [summary_json(p) for p in report.periods],
            "by": by,
            "groups": [{"group": name, **summary_json(s)} for name, s in report.groups],
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"MRR movements {start} – {end} ({report.currency}, rates of {report.rates_on})")
    columns = [
        "",
        "opening",
        "new",
        "expansion",
        "reactivation",
        "contraction",
        "churn",
        "closing",
        "logo churn",
        "GRR",
        "NRR",
    ]
    for name in columns:
        table.add_column(name, justify="left" if not name else "right")
    rows = [(f"{p.start} – {p.end}", p) for p in report.periods] + [("total", report.total)]
    rows += [(name, s) for name, s in report.groups]
    for label, s in rows:
        table.add_row(
            label,
            str(s.opening_mrr),
            str(s.new),
            str(s.expansion),
            str(s.reactivation),
            str(s.contraction),
            str(s.churn),
            str(s.closing_mrr),
            _pct(s.logo_churn_rate),
            _pct(s.grr),
            _pct(s.nrr),
        )
    console.print(table)


@retention_app.command("fit")
def retention_fit_command(
    survivors: Annotated[str, typer.Option("--survivors", help="Survivor counts N0,N1,N2,... of one cohort.")],
    periods: Annotated[int, typer.Option("--periods", help="Periods to project.")] = 5,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Per-period discount rate.")] = 0.10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit the sBG model by maximum likelihood; project survival and the expected remaining lifetime."""
    from tandem.revenue.sbg import FitError, fit_sbg

    try:
        counts = [int(v) for v in survivors.replace(" ", "").split(",") if v]
    except ValueError:
        fail("--survivors: give whole numbers separated by commas, e.g. 1000,631,468.", code=2)
    if discount_rate <= 0:
        fail("--discount-rate must be positive.", code=2)
    try:
        fit = fit_sbg([counts])
    except FitError as exc:
        fail(f"--survivors: {exc}", code=2)
    k = len(counts) - 1
    projection = [
        {"period": t, "survival": fit.survival(t), "survivors": counts[0] * fit.survival(t)}
        for t in range(k + 1, k + periods + 1)
    ]
    derl = fit.derl(discount_rate=discount_rate, renewals=k)
    if as_json:
        payload = {
            "alpha": fit.alpha,
            "beta": fit.beta,
            "log_likelihood": fit.log_likelihood,
            "homogeneous": fit.homogeneous,
            "observed_periods": k,
            "projection": projection,
            "discount_rate": discount_rate,
            "derl": derl,
            "del": fit.del_(discount_rate=discount_rate),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(f"alpha = {fit.alpha:.4f}   beta = {fit.beta:.4f}   log-likelihood = {fit.log_likelihood:.4f}")
    table = Table(title="Projected survival")
    for name in ("period", "S(t)", "survivors of " + str(counts[0])):
        table.add_column(name, justify="right")
    for row in projection:
        table.add_row(str(row["period"]), f"{row['survival']:.4f}", f"{row['survivors']:.1f}")
    console.print(table)
    console.print(
        f"Expected remaining lifetime of a survivor after {k} periods "
        f"(DERL, discount rate {discount_rate:g}): {derl:.4f} periods"
    )


@renewals_app.command("open")
def renewals_open_command(
    today: Annotated[str | None, typer.Option("--today", help="Date to act as today (YYYY-MM-DD).")] = None,
) -> None:
    """Open renewal opportunities for contracts within their tier's lead time of ending."""
    setup_django()
    from tandem.opportunities.services import renewals_open_due

    created = renewals_open_due(acting_user=None, today=_date(today, "--today") if today else None)
    console.print(f"Opened {len(created)} renewal opportunities.")


@report_app.command("account")
def report_account_command(
    account_id: Annotated[int | None, typer.Argument(help="Account id.", show_default=False)] = None,
    book: Annotated[str | None, typer.Option("--book", help="Every account of this user (CSM or AM).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf or html.")] = "pdf",
    out: Annotated[Path | None, typer.Option("--out", help="Output file.")] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Render it as this user may see it (their access rule); default: everything."),
    ] = None,
) -> None:
    """Write an account status report / QBR pack (one account, or a whole book of business)."""
    setup_django()
    from tandem.core.errors import DomainError
    from tandem.reports.services import report_render

    if (account_id is None) == (book is None):
        fail("give either an account id or --book USER.", code=2)
    if fmt not in ("pdf", "html"):
        fail("--format must be pdf or html.", code=2)
    from tandem.users.models import User

    reader = None
    if as_user is not None:
        reader = User.objects.filter(username=as_user, is_active=True).first()
        if reader is None:
            fail(f"--as: no active user named {as_user}.", code=2)
    try:
        content, filename = report_render(account_id=account_id, book_username=book, fmt=fmt, reader=reader)
    except DomainError as exc:
        fail(str(exc), code=2)
    target = out or Path(filename)
    target.write_bytes(content)
    console.print(f"Wrote {target} ({len(content):,} bytes)")


def register(app: typer.Typer) -> None:
    app.add_typer(revenue_app)
    app.add_typer(retention_app)
    app.add_typer(renewals_app)
    app.add_typer(report_app)
