"""Template context every page of the shell needs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import get_language_bidi


def shell(request: HttpRequest) -> dict:
    return {"text_direction": "rtl" if get_language_bidi() else "ltr"}
