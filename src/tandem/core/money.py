"""Money arithmetic: Decimal amounts with an ISO 4217 currency, converted through ExchangeRate.

MRR normalisation (documented in docs/data-model.md): a line item's amount per billing period is
``quantity * unit_price``; its MRR is that amount divided by the number of months in the billing
period; ARR is MRR * 12. Intermediate values keep full precision; only stored and displayed values
are rounded to cents with ROUND_HALF_UP.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# Currencies the product knows by default; any ISO 4217 code is accepted if a rate exists.
COMMON_CURRENCIES = ["USD", "EUR", "GBP", "JPY", "VND", "CNY", "IRR", "AUD", "CAD", "SGD", "INR"]


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def monthly(amount_per_period: Decimal, months_in_period: int) -> Decimal:
    """Normalise an amount billed every ``months_in_period`` months to a monthly amount."""
    return Decimal(amount_per_period) / Decimal(months_in_period)


def validate_currency_code(code: str) -> str:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    normalised = (code or "").strip().upper()
    if len(normalised) != 3 or not normalised.isalpha():
        raise ValidationError(_("'%(code)s' is not a three-letter ISO 4217 currency code."), params={"code": code})
    return normalised


def currency_code_validator(value: str) -> None:
    """Model-field validator: three upper-case letters (ISO 4217 shape)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
        raise ValidationError(_("'%(code)s' is not a three-letter ISO 4217 currency code."), params={"code": value})
