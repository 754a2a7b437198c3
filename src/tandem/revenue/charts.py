"""Revenue, retention and forecast charts: pygal SVG in the style of web/charts.py, legends in HTML."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from django.utils.translation import gettext as _

from tandem.revenue.engine import PeriodSummary
from tandem.web.charts import Chart, LegendEntry, _base_config, _svg
from tandem.web.templatetags.tandem_format import money_short


def _legend(names: Sequence[str]) -> tuple[LegendEntry, ...]:
    return tuple(LegendEntry(label=n, series=i) for i, n in enumerate(names))


def _money_axis(chart: pygal.graph.graph.Graph) -> None:
    """Axis labels and tooltips in the reporting currency, compact and in the active locale: $1.2M."""
    chart.value_formatter = money_short


def movements_chart(periods: Sequence[PeriodSummary]) -> Chart:
    """MRR gained (new, expansion, reactivation) above zero and lost (contraction, churn) below."""
    chart = pygal.StackedBar(**{**_base_config(height=260), "x_labels_major_every": 1}, show_legend=False)
    chart.x_labels = [p.start.strftime("%Y-%m") for p in periods]
    _money_axis(chart)
    series = [
        (_("New"), [float(p.new) for p in periods]),
        (_("Expansion"), [float(p.expansion) for p in periods]),
        (_("Reactivation"), [float(p.reactivation) for p in periods]),
        (_("Contraction"), [-float(p.contraction) for p in periods]),
        (_("Churn"), [-float(p.churn) for p in periods]),
    ]
    for name, values in series:
        chart.add(name, values)
    return Chart(title=_("MRR movements"), svg=_svg(chart), legend=_legend([n for n, _v in series]))


def mrr_chart(periods: Sequence[PeriodSummary]) -> Chart:
    chart = pygal.Line(**{**_base_config(height=200), "x_labels_major_every": 1}, show_legend=False, fill=True)
    chart.x_labels = [p.start.strftime("%Y-%m") for p in periods]
    _money_axis(chart)
    chart.add(_("Closing MRR"), [float(p.closing_mrr) for p in periods])
    return Chart(title=_("MRR at the end of each period"), svg=_svg(chart))


def retention_lines_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, percent: bool = True
) -> Chart:
    chart = pygal.Line(**{**_base_config(height=260), "x_labels_major_every": 1}, show_legend=False, dots_size=2)
    chart.x_labels = list(labels)
    if percent:
        chart.value_formatter = lambda v: f"{v:.0%}"
    for name, values in series:
        chart.add(name, list(values))
    return Chart(title=title, svg=_svg(chart), legend=_legend([n for n, _v in series]))


def forecast_chart(rows: Sequence[Any]) -> Chart:
    chart = pygal.Bar(**{**_base_config(height=240), "x_labels_major_every": 1}, show_legend=False)
    chart.x_labels = [r.owner for r in rows]
    _money_axis(chart)
    series = [
        (_("Quota"), [float(r.quota) for r in rows]),
        (_("Closed won"), [float(r.closed_won) for r in rows]),
        (_("Commit"), [float(r.forecast_commit) for r in rows]),
        (_("Best case"), [float(r.forecast_best_case) for r in rows]),
    ]
    for name, values in series:
        chart.add(name, values)
    return Chart(
        title=_("Quota, closed won and forecast by account manager"),
        svg=_svg(chart),
        legend=_legend([n for n, _v in series]),
    )
