"""`tandem demo`: build the demo company (implemented in tandem.demo) and serve it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

# Plain constants (no Django import): the option defaults are read when the command is defined.
from tandem.demo.catalog import EVENTS_PER_ACCOUNT
from tandem.demo.pipeline import HISTORY_EVERY_DAYS

if TYPE_CHECKING:
    from rich.progress import TaskID


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and --today give the same data.")] = 42,
    accounts: Annotated[int, typer.Option(min=10, help="Number of customer accounts.")] = 1000,
    events_per_account: Annotated[
        int,
        typer.Option(
            min=1,
            help="Usage events per account over the history; fewer build large demos faster.",
        ),
    ] = EVENTS_PER_ACCOUNT,
    activity: Annotated[
        float,
        typer.Option(
            min=0.01,
            max=1.0,
            help="Share of the tickets and CSM touches written per account (1: all of them).",
        ),
    ] = 1.0,
    history_every: Annotated[
        int,
        typer.Option(
            min=1,
            help="Days between two metric and health snapshots of the history.",
        ),
    ] = HISTORY_EVERY_DAYS,
    today: Annotated[
        str | None, typer.Option(help="Anchor date YYYY-MM-DD the history ends on (default: today).")
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web UI afterwards.")] = True,
    force: Annotated[
        bool, typer.Option(help="Build even if the database holds accounts the demo did not create.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="While serving, also run a background worker (previews, backtests, PDF reports, emails).",
        ),
    ] = True,
) -> None:
    """Build a realistic demo company (3 years of history) and serve it."""
    from tandem.cli.app import console, fail, setup_django

    anchor: dt.date | None = None
    if today is not None:
        try:
            anchor = dt.date.fromisoformat(today)
        except ValueError:
            fail(f"--today must be a date like 2025-06-30, not '{today}'.", code=2)
    setup_django()
    from django.core.management import call_command

    from tandem.demo.builder import DemoRefused, build_demo, read_marker
    from tandem.demo.catalog import DEMO_PASSWORD, TEAM
    from tandem.web.server import ServeError, check_port, run_server

    if serve:
        try:
            check_port(host=host, port=port)  # before a build of minutes, not after it
        except ServeError as exc:
            fail(str(exc))

    call_command("migrate", interactive=False, verbosity=0)
    previous = read_marker()
    if previous:
        console.print(
            f"Replacing the demo built on {previous.get('built_at', '?')} "
            f"(seed {previous.get('seed')}, today {previous.get('today')})."
        )
        console.file.flush()
    try:
        with phases_reporter() as phases:
            result = build_demo(
                seed=seed,
                accounts=accounts,
                today=anchor,
                scale=events_per_account / EVENTS_PER_ACCOUNT,
                activity=activity,
                history_every_days=history_every,
                force=force,
                phases=phases,
            )
    except DemoRefused as exc:
        fail(str(exc), code=3)
        return

    console.print(
        f"[green]Built the demo[/] in {result.seconds:.0f}s: {result.accounts:,} accounts, "
        f"{result.contacts:,} contacts, {result.subscriptions:,} subscription terms, "
        f"{result.tickets:,} tickets, {result.interactions:,} interactions, "
        f"{result.events:,} usage events (history up to {result.today})."
    )
    console.print(f"Ground truth of the hidden health process: {result.ground_truth}, {result.renewals}")
    logins = "\n".join(f"  {m.username:<8} {m.role.replace('_', ' ')}" for m in TEAM)
    banner = (
        "\n[bold]Log in as [cyan]admin[/] with password "
        f"[cyan]{DEMO_PASSWORD}[/][/]\n"
        f"Every demo user has the password {DEMO_PASSWORD}:\n{logins}\n"
    )
    if not serve:
        console.print(banner)
        return
    # Long computations a user starts (scorecard previews, backtests, PDF reports) and emails run on
    # a worker; the demo starts one next to the server so they finish (docs/demo.md).
    helper = _start_worker() if worker else None
    try:
        run_server(host=host, port=port, banner=banner)
    except ServeError as exc:
        fail(str(exc))
    finally:
        if helper is not None:
            helper.terminate()
            helper.wait(10)


def _start_worker() -> subprocess.Popen[bytes]:
    """``tandem worker`` in a child process with this process's environment (same TANDEM_HOME)."""
    return subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=dict(os.environ))


class _PlainPhases:
    """A line per finished phase, flushed at once: what a log file or a pipe gets (no live display).

    Rich only redraws its progress bars on a terminal; written to a file they would appear all at
    once when the build ends, and Python block-buffers a redirected stdout besides.
    """

    def __enter__(self) -> _PlainPhases:
        from tandem.cli.app import console

        self._console = console
        self._last: tuple[str, float, int, list[int]] | None = None
        return self

    def start(self, name: str, total: int) -> Callable[[int], None]:
        import time

        self._finish_last()
        done = [0]
        self._last = (name, time.monotonic(), total, done)
        self._console.print(f"{name} …", highlight=False)
        self._console.file.flush()

        def advance(n: int) -> None:
            done[0] += n

        return advance

    def _finish_last(self) -> None:
        import time

        if self._last is not None:
            name, started, total, _done = self._last
            self._console.print(f"{name:<44} {total:>10,}  {time.monotonic() - started:6.1f} s", highlight=False)
            self._console.file.flush()
            self._last = None

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self._finish_last()


def phases_reporter() -> _RichPhases | _PlainPhases:
    """Live progress bars on a terminal, flushed plain lines otherwise."""
    from tandem.cli.app import console

    return _RichPhases() if console.is_terminal else _PlainPhases()


class _RichPhases:
    """One Rich progress bar per build phase."""

    def __enter__(self) -> _RichPhases:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from tandem.cli.app import console

        self._progress = Progress(
            TextColumn("{task.description:<44}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._progress.start()
        self._last: TaskID | None = None
        return self

    def start(self, name: str, total: int) -> Callable[[int], None]:
        self._finish_last()
        task = self._progress.add_task(name, total=total)
        self._last = task
        return lambda n: self._progress.advance(task, n)

    def _finish_last(self) -> None:
        # A phase whose advances undershoot its estimate (events are Poisson) still ends at 100%.
        if self._last is not None:
            total = self._progress.tasks[self._last].total
            self._progress.update(self._last, completed=total)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self._finish_last()
        self._progress.stop()
