"""The metric set that ships with Tandem, YAML loading, and a starter set built from event names."""

from __future__ import annotations

import re
from typing import Any

# Generic metrics: they work on any company because they name no event.
DEFAULT_METRICS: list[dict[str, Any]] = [
    {"key": "events_28d", "name": "Events (28 days)", "kind": "event_count", "window_days": 28},
    {"key": "active_users_28d", "name": "Active users (28 days)", "kind": "distinct_users", "window_days": 28},
    {"key": "active_days_28d", "name": "Active days (28 days)", "kind": "active_days", "window_days": 28},
    {
        "key": "events_change_28d",
        "name": "Events, change vs previous 28 days",
        "kind": "change",
        "base": "events_28d",
    },
    {
        "key": "active_users_change_28d",
        "name": "Active users, change vs previous 28 days",
        "kind": "change",
        "base": "active_users_28d",
    },
    {"key": "seats", "name": "Licensed seats", "kind": "seats"},
    {
        "key": "active_users_per_seat",
        "name": "Active users per licensed seat",
        "kind": "per_seat",
        "base": "active_users_28d",
    },
    {"key": "events_per_seat", "name": "Events per licensed seat (28 days)", "kind": "per_seat", "base": "events_28d"},
    {"key": "tenure_days", "name": "Tenure (days)", "kind": "tenure_days"},
    {"key": "mrr", "name": "MRR", "kind": "mrr"},
    {"key": "open_tickets", "name": "Open tickets", "kind": "open_tickets", "higher_is_better": False},
    {
        "key": "ticket_rate_90d",
        "name": "Tickets per 30 days (last 90 days)",
        "kind": "ticket_rate",
        "window_days": 90,
        "higher_is_better": False,
    },
    {
        "key": "days_since_interaction",
        "name": "Days since last interaction",
        "kind": "days_since_interaction",
        "higher_is_better": False,
    },
    {
        "key": "latest_nps",
        "name": "Latest NPS score (last 12 months)",
        "kind": "latest_nps",
        "window_days": 365,
    },
    {
        "key": "milestone_completion",
        "name": "Success milestones completed (share of those due, last 12 months)",
        "kind": "milestone_completion",
        "window_days": 365,
    },
]

FIELDS = (
    "name",
    "description",
    "kind",
    "events",
    "window_days",
    "property",
    "numerator",
    "denominator",
    "base",
    "higher_is_better",
    "is_active",
)
# At most this many event names get their own metrics; the rest are still in events_28d.
SUGGEST_MAX_EVENTS = 12


def slugify_event(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug[:40] or "event"


def suggest_from_events(event_volumes: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """A starter set: the generic metrics (distinct users, active days, ...) plus, per frequent event,
    a 28-day count, its change versus the previous 28 days and a per-seat rate."""
    suggested = [dict(m) for m in DEFAULT_METRICS]
    ranked = sorted(event_volumes, key=lambda item: (-item[1], item[0]))[:SUGGEST_MAX_EVENTS]
    for event, _volume in ranked:
        slug = slugify_event(event)
        suggested.append({"key": f"{slug}_28d", "name": f"{event} (28 days)", "kind": "event_count", "events": [event]})
        suggested.append(
            {
                "key": f"{slug}_change_28d",
                "name": f"{event}: change vs previous 28 days",
                "kind": "change",
                "base": f"{slug}_28d",
            }
        )
        suggested.append(
            {
                "key": f"{slug}_per_seat",
                "name": f"{event} per seat (28 days)",
                "kind": "per_seat",
                "base": f"{slug}_28d",
            }
        )
    return suggested


def parse_yaml(text: str) -> list[dict[str, Any]]:
    """Metric definitions from YAML: a list, or a mapping with a ``metrics`` list."""
    import yaml

    data = yaml.safe_load(text)
    if isinstance(data, dict):
        data = data.get("metrics")
    if not isinstance(data, list) or not all(isinstance(item, dict) and item.get("key") for item in data):
        raise ValueError("expected a list of metrics, each a mapping with at least a key")
    return data
