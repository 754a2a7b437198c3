"""Percentages for revenue pages, formatted for the active language (Babel)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_percent
from django import template

from tandem.web.templatetags.tandem_format import babel_locale

register = template.Library()


@register.filter
def pct(value: Decimal | float | None, digits: int = 1) -> str:
    """``0.9312`` -> ``93.1%`` (``—`` when undefined)."""
    if value is None or value == "":
        return "—"
    return format_percent(Decimal(str(value)), format="#,##0." + "0" * int(digits) + "%", locale=babel_locale())


@register.filter
def neg(value: Decimal | None) -> Decimal | None:
    return None if value is None else -value
