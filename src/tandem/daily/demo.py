"""The demo's daily-pipeline step: today's metrics, health, risk, renewals, rules, CTAs and digests.

The earlier demo steps build the history (metric snapshots and health scores up to yesterday, the
churn model, closed renewals, the shipped rules); today is computed by the same service the
scheduled job runs every day after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tandem.daily.models import DailyStep
from tandem.daily.services import StepRun, daily_pipeline_run

if TYPE_CHECKING:
    from tandem.demo.pipeline import DemoContext


class _Advance:
    """Moves the demo's progress bar one step per finished pipeline step."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        self.advance = advance

    def step_started(self, step: DailyStep) -> None:
        return None

    def step_finished(self, outcome: StepRun[Any]) -> None:
        self.advance(1)


def demo_step(ctx: DemoContext) -> None:
    """Registered in tandem.demo.pipeline.POST_BUILD_STEPS after the history, renewal and rule steps."""
    advance = ctx.phases.start("Daily pipeline for today", len(DailyStep))
    daily_pipeline_run(acting_user=None, today=ctx.today, observer=_Advance(advance))
