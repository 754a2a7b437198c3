"""Steps other domains run on a freshly built demo: metrics, health, rules, renewals, ...

The builder writes the raw company (accounts, contracts, usage); each domain that derives something
from it registers one step here, so the demo opens with that domain's output and the builder never
imports those domains. Steps run in list order (later steps may use earlier ones' output), must be
idempotent (a rebuild runs them again on new data), and report progress through ``ctx.phases``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from tandem.demo.builder import Phases


# Days between two snapshots of the metric and health history the demo computes (``--history-every``).
HISTORY_EVERY_DAYS = 21


@dataclass(frozen=True)
class DemoContext:
    seed: int
    today: dt.date
    home: Path
    phases: Phases
    history_every_days: int = HISTORY_EVERY_DAYS


# Dotted paths of callables ``step(ctx: DemoContext) -> None``, in the order they run. Today's
# metrics, health, risk, renewals, rules, CTAs and digests come from the daily pipeline, as on
# every later day; the steps before it build the history it reads.
POST_BUILD_STEPS: list[str] = [
    "tandem.playbooks.demo.signals_step",  # NPS answers and milestones, read by the metrics step
    "tandem.health.demo.demo_step",  # metric and health history, churn model (issue #4)
    "tandem.opportunities.demo.build_demo_opportunities",  # closed renewals, expansion pipeline, quotas
    "tandem.playbooks.demo.demo_step",  # the shipped playbooks and rules
    "tandem.success.demo.demo_step",  # an onboarding segment, its plan template and plans from it
    "tandem.daily.demo.demo_step",  # the daily pipeline for today (renewal forecasts from churn risk)
    "tandem.demo.history.cta_history_step",  # a year of CTAs opened and closed by the same rules
]


def run_post_build_steps(ctx: DemoContext, steps: list[str] | None = None) -> list[str]:
    """Run every registered step; returns the names of the steps that ran."""
    ran: list[str] = []
    for path in POST_BUILD_STEPS if steps is None else steps:
        step: Callable[[DemoContext], None] = import_string(path)
        step(ctx)
        ran.append(path)
    return ran
