"""The outcomes page's chart: outcomes achieved and milestones reached each month (pygal, as web/charts.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pygal
from babel.dates import format_skeleton
from django.utils.translation import gettext as _

from tandem.web.charts import Chart, LegendEntry, _base_config, _svg
from tandem.web.templatetags.tandem_format import babel_locale


def outcomes_by_month_chart(months: Sequence[tuple[dt.date, int, int]]) -> Chart:
    chart = pygal.Bar(**{**_base_config(height=220), "x_labels_major_every": 1}, show_legend=False)
    locale = babel_locale()
    # The month alone, with the year on the first bar and on January: twelve labels fit in any language.
    chart.x_labels = [
        format_skeleton("yMMM" if i == 0 or month.month == 1 else "MMM", month, locale=locale)
        for i, (month, _a, _r) in enumerate(months)
    ]
    top = max([1, *(a for _m, a, _r in months), *(r for _m, _a, r in months)])
    step = max(1, -(-top // 5))
    chart.y_labels = list(range(0, top + step, step))  # whole numbers: these are counts
    chart.value_formatter = lambda v: f"{v:.0f}"
    chart.add(_("Outcomes achieved"), [a for _m, a, _r in months])
    chart.add(_("Milestones reached"), [r for _m, _a, r in months])
    return Chart(
        title=_("Outcomes achieved and milestones reached, by month"),
        svg=_svg(chart),
        legend=(
            LegendEntry(label=_("Outcomes achieved"), series=0),
            LegendEntry(label=_("Milestones reached"), series=1),
        ),
    )
