import datetime as dt
from pathlib import Path

from tandem.demo.builder import SilentPhases
from tandem.demo.pipeline import DemoContext, run_post_build_steps

CALLS: list[tuple[str, dt.date]] = []


def first_step(ctx: DemoContext) -> None:
    CALLS.append(("first", ctx.today))


def second_step(ctx: DemoContext) -> None:
    CALLS.append(("second", ctx.today))


def test_steps_run_in_order_with_the_context(tmp_path: Path):
    CALLS.clear()
    ctx = DemoContext(seed=1, today=dt.date(2026, 1, 2), home=tmp_path, phases=SilentPhases())

    ran = run_post_build_steps(ctx, steps=[f"{__name__}.first_step", f"{__name__}.second_step"])

    assert [("first", dt.date(2026, 1, 2)), ("second", dt.date(2026, 1, 2))] == CALLS
    assert ran == [f"{__name__}.first_step", f"{__name__}.second_step"]
