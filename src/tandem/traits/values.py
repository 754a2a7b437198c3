"""Turning what a user, a file or an API client sent into a custom field's stored value."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from tandem.traits.models import TraitDefinition, TraitKind

TRUE_WORDS = {"true", "yes", "y", "1", "on", "x"}
FALSE_WORDS = {"false", "no", "n", "0", "off"}
MAX_TEXT = 500
MAX_CHOICES = 100


def trait_value(defn: TraitDefinition, raw: Any) -> Any:
    """The JSON value stored for ``raw`` (None clears the field); ValueError says what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = defn.kind
    if kind == TraitKind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(_("'%(v)s' is not yes or no.") % {"v": raw})
    if kind == TraitKind.NUMBER:
        if isinstance(raw, bool):
            raise ValueError(_("'%(v)s' is not a number.") % {"v": raw})
        try:
            number = float(str(raw).strip().replace(",", "")) if not isinstance(raw, int | float) else float(raw)
        except ValueError:
            raise ValueError(_("'%(v)s' is not a number.") % {"v": raw}) from None
        if not math.isfinite(number):
            raise ValueError(_("'%(v)s' is not a number.") % {"v": raw})
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == TraitKind.DATE:
        text = str(raw).strip()[:10] if isinstance(raw, str) and "T" in str(raw) else str(raw).strip()
        try:
            return (raw if isinstance(raw, dt.date) else dt.date.fromisoformat(text)).isoformat()
        except ValueError:
            raise ValueError(_("'%(v)s' is not a date (YYYY-MM-DD).") % {"v": raw}) from None
    text = str(raw).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(_("At most %(max)s characters.") % {"max": MAX_TEXT})
    if kind == TraitKind.CHOICE:
        by_lower = {str(c).lower(): str(c) for c in defn.choices}
        if text.lower() not in by_lower:
            raise ValueError(
                _("'%(v)s' is not one of: %(choices)s.") % {"v": text, "choices": ", ".join(map(str, defn.choices))}
            )
        return by_lower[text.lower()]
    return text


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def infer_kind(values: Iterable[str]) -> tuple[str, list[str]]:
    """A kind for a column nobody defined yet, from its values: (kind, choices for a choice).

    Numbers, ISO dates and yes/no are recognised when every non-empty value is one; a column with
    at most 12 distinct values that repeat is a choice; anything else is text."""
    seen = [v.strip() for v in values if v and v.strip()]
    if not seen:
        return TraitKind.TEXT, []
    if all(_NUMBER.match(v.replace(",", "")) for v in seen):
        return TraitKind.NUMBER, []
    if all(v.lower() in TRUE_WORDS | FALSE_WORDS for v in seen) and not all(v in {"0", "1"} for v in seen):
        return TraitKind.BOOLEAN, []
    try:
        for v in seen:
            dt.date.fromisoformat(v)
    except ValueError:
        pass
    else:
        return TraitKind.DATE, []
    distinct = sorted(set(seen), key=str.lower)
    if len(distinct) <= 12 and len(seen) > len(distinct):
        return TraitKind.CHOICE, distinct
    return TraitKind.TEXT, []
