"""Locale-aware formatting of money, numbers and dates for templates (Babel).

Django's own number localisation keeps Latin digits and knows nothing about currencies, so money,
counts and dates all go through Babel with the active language; that keeps digits and separators
consistent within a page (e.g. Persian digits throughout in ``fa``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_compact_currency, format_currency, format_decimal
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tandem.access.masking import HiddenValue

register = template.Library()

# Django language code -> Babel locale; the territory fixes conventions such as the currency
# symbol position and the grouping of digits.
BABEL_LOCALES = {
    "en": "en_US",
    "vi": "vi_VN",
    "ja": "ja_JP",
    "fa": "fa_IR",
    "zh-hans": "zh_Hans_CN",
}
DEFAULT_LOCALE = "en_US"


def babel_locale(language: str | None = None) -> Locale:
    """The Babel locale for a Django language code (the active language by default)."""
    code = (language or get_language() or settings.LANGUAGE_CODE).lower()
    name = BABEL_LOCALES.get(code) or BABEL_LOCALES.get(code.split("-")[0]) or DEFAULT_LOCALE
    return Locale.parse(name)


def format_money(
    amount: Decimal | float | int | HiddenValue | None, currency: str | None = None, *, language: str | None = None
) -> str:
    """``amount`` in ``currency`` (the reporting currency by default) for the active language."""
    if isinstance(amount, HiddenValue):
        return hidden_marker()
    if amount is None or amount == "":
        return ""
    return format_currency(
        Decimal(str(amount)),
        (currency or settings.TANDEM_REPORTING_CURRENCY).upper(),
        locale=babel_locale(language),
    )


def hidden_marker() -> str:
    """How a contract value the reader's access rule hides looks, on every page and in every report."""
    return format_html('<span class="masked" title="{}">•••</span>', _("Hidden by your access rule"))


@register.filter
def money(amount: Decimal | float | int | HiddenValue | None, currency: str | None = None) -> str:
    """``{{ account.arr|money }}`` or ``{{ subscription.arr|money:subscription.currency }}``."""
    return format_money(amount, currency)


@register.filter
def money_short(amount: Decimal | float | int | HiddenValue | None, currency: str | None = None) -> str:
    """Compact money for headline figures: ``$1.2M``."""
    if isinstance(amount, HiddenValue):
        return hidden_marker()
    if amount is None or amount == "":
        return ""
    return format_compact_currency(
        Decimal(str(amount)),
        (currency or settings.TANDEM_REPORTING_CURRENCY).upper(),
        locale=babel_locale(),
        fraction_digits=1,
    )


@register.filter
def number(value: Decimal | float | int | HiddenValue | None) -> str:
    """A count or quantity with the locale's digits and grouping."""
    if isinstance(value, HiddenValue):
        return hidden_marker()
    if value is None or value == "":
        return ""
    return format_decimal(value, locale=babel_locale())


@register.filter
def local_date(value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
    """A date in the active language; ``fmt`` is a Babel format name or pattern."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, format=fmt, locale=babel_locale())


@register.filter
def local_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    """A moment in the server's time zone, in the active language (``3 Dec 2026, 06:00:12``)."""
    if not value:
        return ""
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_datetime(value, format=fmt, locale=babel_locale())


@register.filter
def days_until(value: dt.date | None) -> int | None:
    """Whole days from today to ``value`` (negative when in the past)."""
    if not value:
        return None
    return (value - timezone.localdate()).days


@register.filter
def signed(value: Decimal | float | int | None) -> str:
    """A whole-number change with its sign (+3, -5, 0) in the locale's digits."""
    if value is None or value == "":
        return ""
    whole = round(float(value))
    if whole == 0:
        return format_decimal(0, locale=babel_locale())
    return format_decimal(whole, format="+#,##0;-#,##0", locale=babel_locale())


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """A length of time in words in the active language ("15 minutes", "15分")."""
    if value is None:
        return ""
    return format_timedelta(value, threshold=1.5, locale=babel_locale())
