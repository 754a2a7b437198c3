"""Builds the demo company end to end: plan, database, event store, ground truth, marker."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem import config
from tandem.audit.context import audit_context
from tandem.audit.models import AuditVia
from tandem.core.errors import DomainError, FieldError
from tandem.demo import writer
from tandem.demo.generator import build_plan
from tandem.demo.pipeline import HISTORY_EVERY_DAYS, DemoContext, run_post_build_steps
from tandem.subscriptions.services import account_refresh_revenue
from tandem.usage.eventstore import EventStore

MARKER_NAME = "demo.json"


class Phases(Protocol):
    """Progress reporting: ``start`` announces a phase and returns a function that advances it."""

    def start(self, name: str, total: int) -> Callable[[int], None]: ...


class SilentPhases:
    def start(self, name: str, total: int) -> Callable[[int], None]:
        return lambda _n: None


class DemoRefused(DomainError):
    """The database holds customers the demo did not make; rebuilding would mix or delete them."""


@dataclass(frozen=True)
class DemoResult:
    seed: int
    today: str
    accounts: int
    contacts: int
    subscriptions: int
    tickets: int
    interactions: int
    events: int
    users: list[str]
    seconds: float
    ground_truth: str
    renewals: str


def marker_path(home: Path | None = None) -> Path:
    return (home or config.tandem_home()) / MARKER_NAME


def read_marker(home: Path | None = None) -> dict | None:
    path = marker_path(home)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def check_can_build(*, force: bool) -> int:
    """Refuse to touch a database holding non-demo accounts unless forced; returns their count."""
    others = writer.non_demo_accounts().count()
    if others and not force:
        raise DemoRefused(
            _("The database holds accounts the demo did not create."),
            [
                FieldError(
                    "database",
                    _(
                        "%(count)d accounts were not made by `tandem demo`; rebuild anyway with "
                        "--force (it keeps them), or point TANDEM_HOME or DATABASE_URL elsewhere."
                    )
                    % {"count": others},
                )
            ],
            status=409,
        )
    return others


def build_demo(
    *,
    seed: int = 42,
    accounts: int = 1000,
    today: dt.date | None = None,
    scale: float = 1.0,
    activity: float = 1.0,
    history_every_days: int = HISTORY_EVERY_DAYS,
    force: bool = False,
    phases: Phases | None = None,
    home: Path | None = None,
    post_build_steps: list[str] | None = None,
) -> DemoResult:
    """Wipe the previous demo and build a new one (database, event store, ground truth).

    ``scale`` multiplies the number of usage events (tests use a small one), ``activity`` the
    tickets and CSM touches written per account, and ``history_every_days`` is the step of the
    metric and health history; large demos use less of each (``tandem demo --help``). ``post_build_steps``
    defaults to every step registered in tandem.demo.pipeline; ``[]`` builds the raw company only.
    Everything it writes is recorded in the audit history as via "system" (the rules it runs as
    via "rule"), without an actor.
    """
    with audit_context(via=AuditVia.SYSTEM, actor=None):
        return _build(
            seed=seed,
            accounts=accounts,
            today=today,
            scale=scale,
            activity=activity,
            history_every_days=history_every_days,
            force=force,
            phases=phases,
            home=home,
            post_build_steps=post_build_steps,
        )


def _build(
    *,
    seed: int,
    accounts: int,
    today: dt.date | None,
    scale: float,
    activity: float,
    history_every_days: int,
    force: bool,
    phases: Phases | None,
    home: Path | None,
    post_build_steps: list[str] | None,
) -> DemoResult:
    started = time.monotonic()
    phases = phases or SilentPhases()
    today = today or timezone.localdate()
    home = home or config.tandem_home()
    others = check_can_build(force=force)

    advance = phases.start("Simulating the hidden health process", accounts)
    plan = build_plan(seed=seed, accounts=accounts, today=today, scale=scale, activity=activity, advance=advance)

    store = EventStore.for_settings()
    with transaction.atomic():
        advance = phases.start("Clearing the previous demo", 1)
        old_ids = writer.clear_database(keep_others=bool(others))
        advance(1)
        advance = phases.start("Writing team, products and exchange rates", 3)
        users = writer.write_team()
        advance(1)
        products = writer.write_products()
        advance(1)
        writer.write_rates(plan, keep_existing=bool(others))
        advance(1)
        people = sum(len(a.contacts) for a in plan.accounts)
        advance = phases.start("Writing accounts and contacts", accounts + people)
        account_ids, contact_ids = writer.write_accounts(plan, users, advance)
        terms = sum(len(a.terms) for a in plan.accounts)
        advance = phases.start("Writing subscriptions", terms)
        subscriptions = writer.write_subscriptions(plan, account_ids, products, advance)
        rows = sum(len(a.tickets) + len(a.interactions) for a in plan.accounts)
        advance = phases.start("Writing tickets and interactions", rows)
        tickets, interactions = writer.write_activity(plan, account_ids, contact_ids, users, advance)
        advance = phases.start("Refreshing revenue", 1)
        account_refresh_revenue(account_ids=account_ids.tolist(), on=today)
        advance(1)

    advance = phases.start("Generating usage events", plan.events_target)
    writer.clear_events(store, account_ids=old_ids if others else None)
    events = writer.write_events(plan, store, account_ids, contact_ids, advance)
    advance = phases.start("Compacting the event store", 1)
    store.compact()
    advance(1)
    health_path, renewals_path = writer.write_ground_truth(plan, account_ids, home)
    EventStore.close_all()  # steps below may read the store from a fresh connection
    context = DemoContext(seed=seed, today=today, home=home, phases=phases, history_every_days=history_every_days)
    run_post_build_steps(context, post_build_steps)

    result = DemoResult(
        seed=seed,
        today=today.isoformat(),
        accounts=accounts,
        contacts=sum(len(ids) for ids in contact_ids),
        subscriptions=subscriptions,
        tickets=tickets,
        interactions=interactions,
        events=events,
        users=sorted(users),
        seconds=round(time.monotonic() - started, 1),
        ground_truth=str(health_path),
        renewals=str(renewals_path),
    )
    marker = {
        **asdict(result),
        "scale": scale,
        "activity": activity,
        "history_every_days": history_every_days,
        "database": connection.vendor,
        "built_at": timezone.now().isoformat(timespec="seconds"),
    }
    marker_path(home).write_text(json.dumps(marker, indent=2) + "\n")
    return result
