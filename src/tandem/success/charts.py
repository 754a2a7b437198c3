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
    chart.x_labels = [format_skeleton("yMMM", month, locale=locale) for month, _a, _r in months]
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
