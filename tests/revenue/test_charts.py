import datetime as dt
from decimal import Decimal

from django.utils import translation

from tandem.revenue.charts import movements_chart, mrr_chart
from tandem.revenue.engine import PeriodSummary


def _periods() -> list[PeriodSummary]:
    return [
        PeriodSummary(start=dt.date(2026, m, 1), end=dt.date(2026, m, 28), closing_mrr=Decimal(1_200_000 * m))
        for m in (1, 2, 3)
    ]


def test_mrr_axis_shows_compact_money_in_the_active_locale(settings):
    settings.TANDEM_REPORTING_CURRENCY = "USD"
    with translation.override("en"):
        svg = str(mrr_chart(_periods()).svg)
    assert "$2.4M" in svg or "$2M" in svg
    with translation.override("ja"):
        assert "$" in str(mrr_chart(_periods()).svg)


def test_movements_axis_formats_losses_as_negative_money(settings):
    settings.TANDEM_REPORTING_CURRENCY = "EUR"
    periods = [
        PeriodSummary(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), new=Decimal(5000), churn=Decimal(3000))
    ]
    with translation.override("en"):
        svg = str(movements_chart(periods).svg)
    assert "€" in svg
    assert "-€" in svg or "−€" in svg or "€-" in svg
