"""Progress of the daily pipeline on the terminal: a spinner while a step runs, then one line per step.

Used by ``tandem metrics refresh``. Texts are translated (the CLI runs in ``LANGUAGE_CODE``);
counts go through Babel like everywhere else.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from django.utils.translation import gettext as _
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.status import Status

from tandem.core.errors import DomainError
from tandem.daily.models import DailyStep
from tandem.daily.services import DailyPipelineResult, StepRun
from tandem.web.templatetags.tandem_format import babel_locale, number


def _seconds(value: float) -> str:
    # Translators: a duration in seconds in the one-line summary of a daily pipeline step, e.g. "3.2 s".
    return _("%(seconds)s s") % {"seconds": format_decimal(round(value, 1), format="#,##0.0", locale=babel_locale())}


def step_summary(outcome: StepRun[Any]) -> str:
    """What a step did, in a few words (the CLI's line for it)."""
    r = outcome.result
    step = outcome.step
    if step == DailyStep.METRICS:
        if not r.metrics:
            return _("no active metric, nothing to compute")
        return _("metrics: %(metrics)s, accounts: %(accounts)s") % {
            "metrics": number(r.metrics),
            "accounts": number(r.accounts),
        }
    if step == DailyStep.MILESTONES:
        return _("reached by their metric: %(reached)s") % {"reached": number(r.reached)}
    if step == DailyStep.HEALTH:
        if not r.dates:
            return _("no metric snapshot of this day to score")
        return _("scorecards: %(scorecards)s, accounts scored: %(accounts)s") % {
            "scorecards": number(r.scorecards),
            "accounts": number(r.accounts),
        }
    if step == DailyStep.RISK:
        if not r.model_version:
            return _("no churn model trained yet (tandem model train)")
        return _("accounts scored: %(accounts)s (model %(version)s)") % {
            "accounts": number(r.scored),
            "version": r.model_version,
        }
    if step == DailyStep.SEGMENTS:
        return _("segments: %(segments)s, accounts joined: %(joined)s, left: %(left)s, plans started: %(plans)s") % {
            "segments": number(r.segments),
            "joined": number(r.joined),
            "left": number(r.left),
            "plans": number(r.plans_started),
        }
    if step == DailyStep.ANALYTICS:
        if r.revenue.error:
            return _("cohorts and lifetime value not computed: %(error)s") % {"error": r.revenue.error}
        return _("cohorts: %(cohorts)s, segments fitted: %(segments)s, backtests: %(backtests)s") % {
            "cohorts": number(r.revenue.cohorts),
            "segments": number(r.revenue.segments),
            "backtests": number(r.backtests),
        }
    if step == DailyStep.RENEWALS:
        return _("renewals opened: %(opened)s") % {"opened": number(r.opened)}
    if step == DailyStep.RULES:
        return _("rules: %(rules)s, matches: %(matched)s, calls to action opened: %(opened)s") % {
            "rules": number(len(r.rules)),
            "matched": number(sum(o.matched for o in r.rules)),
            "opened": number(r.opened),
        }
    if step == DailyStep.CTAS:
        return _("waits finished: %(waits)s, snoozed calls to action woken: %(woken)s") % {
            "waits": number(r.waits_finished),
            "woken": number(r.woken),
        }
    return _("users with a digest: %(users)s, newly queued: %(queued)s") % {
        "users": number(r.users),
        "queued": number(r.queued),
    }


class PipelinePrinter:
    """A :class:`tandem.daily.services.PipelineObserver` that prints a line as each step finishes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = max(cell_len(str(s.label)) for s in DailyStep)
        self._status: Status | None = None
        self.current: DailyStep | None = None

    def step_started(self, step: DailyStep) -> None:
        self.current = step
        self._status = self.console.status(str(step.label))
        self._status.start()

    def step_finished(self, outcome: StepRun[Any]) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        label = str(outcome.step.label)
        pad = " " * (self.width - cell_len(label))
        when = _("done earlier") if outcome.resumed else _seconds(outcome.seconds)
        self.console.print(
            f"[green]✓[/] {escape(label)}{pad}  {escape(step_summary(outcome))}  [dim]{escape(when)}[/]",
            soft_wrap=True,
        )

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def failed(self, exc: DomainError) -> str:
        """The error line for a step that refused to run (e.g. a broken metric definition)."""
        details = "; ".join(e.message for e in exc.errors)
        return _("%(step)s failed: %(error)s") % {
            "step": self.current.label if self.current else "",
            "error": f"{exc} {details}".strip(),
        }

    def finished(self, result: DailyPipelineResult) -> None:
        self.console.print(
            _("Daily pipeline for %(day)s finished in %(seconds)s.")
            % {"day": result.today.isoformat(), "seconds": _seconds(result.seconds)},
            soft_wrap=True,
        )
