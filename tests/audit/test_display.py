"""The history shows changed values as every other page does: money with its currency, locale numbers."""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation

from tandem.audit.selectors import display_value
from tandem.opportunities.models import Opportunity
from tandem.subscriptions.models import Subscription, SubscriptionItem
from tandem.web.templatetags.tandem_format import format_money


def _field(model, name):
    return model._meta.get_field(name)


def test_money_numbers_and_dates_are_formatted_for_the_locale() -> None:
    price = _field(SubscriptionItem, "unit_price")
    with translation.override("en"):
        assert display_value(price, "761.0000", currency="EUR") == "€761.00"
        assert display_value(price, "761.0000", currency=None) == "761.00"  # never "761.0000"
        assert display_value(_field(SubscriptionItem, "quantity"), "12.0000", currency=None) == "12"
        assert display_value(_field(SubscriptionItem, "quantity"), "1.2500", currency=None) == "1.25"
        assert display_value(_field(Opportunity, "amount"), "48000.00", currency="USD") == "$48,000.00"
        assert display_value(_field(Subscription, "start_date"), "2026-03-01", currency=None) == "Mar 1, 2026"
        assert display_value(_field(Subscription, "status"), "active", currency=None) == "active"
        assert display_value(price, None, currency="EUR") == ""
    with translation.override("fa"):  # exactly what the pages' money filter shows in Persian
        assert display_value(price, "761.0000", currency="EUR") == format_money(Decimal("761"), "EUR")
