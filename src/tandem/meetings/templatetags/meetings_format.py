"""A meeting's time in the reader's language and time zone."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_datetime, format_time
from django import template
from django.utils import timezone

from tandem.web.templatetags.tandem_format import babel_locale

register = template.Library()


@register.filter
def local_datetime(value: dt.datetime | None) -> str:
    if not value:
        return ""
    return format_datetime(timezone.localtime(value), format="medium", locale=babel_locale())


@register.filter
def local_time(value: dt.datetime | None) -> str:
    if not value:
        return ""
    return format_time(timezone.localtime(value), format="short", locale=babel_locale())
