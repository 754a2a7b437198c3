"""Why an account is at risk, rendered in the reader's language.

The model stores each reason as data (feature, value, typical value, points added); the sentence is
built when it is shown, so a CSM reading in Persian and a rule evaluated by a worker in the server
default both get their own language. Rows scored before this module only carry a finished English
``text``; they are shown as they are.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_noop

from tandem.notifications.messages import Message, Msgid

REASON = gettext_noop("%(label)s: %(value)s (typical %(typical)s), +%(points)s pts")
# Features that are not metric definitions (those are labelled by the metric's own name).
BUILTIN_LABELS = {"health_score": gettext_noop("Health score"), "tier": gettext_noop("Tier")}


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def reason_message(reason: Any) -> Message | str:
    """One stored reason as a translatable message (or the stored text of an old row)."""
    if not isinstance(reason, dict):
        return str(reason)
    if "feature" not in reason or "delta" not in reason:
        return str(reason.get("text", ""))
    feature = reason["feature"]
    label: Message | str = (
        Message(BUILTIN_LABELS[feature]) if feature in BUILTIN_LABELS else str(reason.get("label") or feature)
    )
    return Msgid(REASON) % {
        "label": label,
        "value": _number(reason.get("value")),
        "typical": _number(reason.get("typical")),
        "points": round(100 * float(reason["delta"])),
    }


def reason_texts(reasons: list[Any]) -> list[str]:
    """The stored reasons as sentences in the active language."""
    return [str(reason_message(r)) for r in reasons or [] if r]
