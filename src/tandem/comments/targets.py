"""What may be commented on: each target's name in URLs and the API, its account, and its page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.urls import reverse


@dataclass(frozen=True)
class Target:
    name: str  # in URLs and the API: account, cta, opportunity, note
    label: str  # app_label.Model
    account_id: Callable[[Any], int]
    url: Callable[[Any], str]

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("account", "accounts.Account", lambda o: o.pk, lambda o: reverse("accounts:detail", args=[o.pk])),
        Target(
            "cta", "playbooks.CallToAction", lambda o: o.account_id, lambda o: reverse("playbooks:cta", args=[o.pk])
        ),
        Target(
            "opportunity",
            "opportunities.Opportunity",
            lambda o: o.account_id,
            lambda o: reverse("opportunities:detail", args=[o.pk]),
        ),
        Target(
            "meeting",
            "meetings.Meeting",
            lambda o: o.account_id,
            lambda o: reverse("meetings:detail", args=[o.pk]),
        ),
        Target(
            "note",
            "timeline.Interaction",
            lambda o: o.account_id,
            lambda o: reverse("accounts:detail", args=[o.account_id]) + f"#interaction-{o.pk}",
        ),
    )
}


def target_of(obj: Model) -> Target:
    label = obj._meta.label
    for target in TARGETS.values():
        if target.label == label:
            return target
    raise LookupError(f"{label} cannot be commented on")
