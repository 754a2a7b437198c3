"""pygal charts of the health pages (same style as the usage charts)."""

from __future__ import annotations

import pygal
from babel.dates import format_skeleton
from django.utils.translation import gettext as _

from tandem.web.charts import Chart, _base_config, _svg
from tandem.web.templatetags.tandem_format import babel_locale

CARD = 360  # charts shown in one card of the health grid (health.css: columns of 320 px or more)


def health_history_chart(points: list[tuple]) -> Chart:
    """Score over time (as_of, score) with the band thresholds as context."""
    chart = pygal.Line(**_base_config(height=220), show_legend=False, fill=False, dots_size=2, range=(0, 100))
    locale = babel_locale()
    chart.x_labels = [format_skeleton("yMMMd", d, locale=locale) for d, _s in points]
    chart.x_labels_major_every = max(1, len(points) // 6)
    chart.add(_("Health score"), [round(s, 1) for _d, s in points])
    return Chart(title=_("Health score over time"), svg=_svg(chart))


def distribution_chart(counts: list[int]) -> Chart:
    chart = pygal.Bar(**_base_config(height=240, width=CARD), show_legend=False, x_label_rotation=-40)
    chart.x_labels = [f"{i * 10}-{i * 10 + 10}" for i in range(10)]
    chart.x_labels_major_every = 1
    chart.add(_("Accounts"), counts)
    return Chart(title=_("Distribution of health scores"), svg=_svg(chart))


def roc_chart(points: list[tuple[float, float]], title: str) -> Chart:
    chart = pygal.XY(**_base_config(height=300, width=CARD), show_legend=True, dots_size=1, range=(0, 1), xrange=(0, 1))
    chart.add(_("Scorecard"), points)
    chart.add(_("Chance"), [(0, 0), (1, 1)])
    return Chart(title=title, svg=_svg(chart))


def calibration_chart(rows: list) -> Chart:
    chart = pygal.Bar(**_base_config(height=260, width=CARD), show_legend=False, x_label_rotation=-40)
    chart.x_labels = [f"{r.low:.0f}-{r.high:.0f}" for r in rows]
    chart.x_labels_major_every = 1
    chart.add(_("Churn or contraction rate (%)"), [round(r.rate * 100, 1) for r in rows])
    return Chart(title=_("Later churn or contraction by score band (%)"), svg=_svg(chart))


def measure_auc_chart(measures: list) -> Chart:
    chart = pygal.HorizontalBar(
        **_base_config(height=80 + 30 * len(measures), width=CARD), show_legend=False, range=(0.4, 1.0)
    )
    chart.x_labels = [m.name for m in measures]
    chart.x_labels_major_every = 1
    chart.add(_("AUC"), [round(m.auc, 3) if m.auc is not None else None for m in measures])
    return Chart(title=_("Each measure's own predictive power (AUC)"), svg=_svg(chart))
