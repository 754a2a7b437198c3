"""The demo's post-build steps: NPS answers and onboarding milestones driven by the hidden health,
and the shipped playbooks and rules (the daily pipeline's first run then fills the queues)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from tandem.accounts.models import Account, Contact, LifecycleStage
from tandem.playbooks.catalog import install_shipped
from tandem.success.models import SuccessMilestone
from tandem.success.services import milestone_bulk_create
from tandem.surveys.models import NpsResponse
from tandem.surveys.services import nps_response_bulk_create
from tandem.timeline.models import EventKind, TimelineEvent

if TYPE_CHECKING:
    from pathlib import Path

    from tandem.demo.pipeline import DemoContext

MILESTONES = [
    ("Kick-off call held", 7),
    ("Admins trained", 21),
    ("First workflow live", 45),
    ("First value review", 75),
]
COMMENTS = {
    "detractor": [
        "Too many bugs lately.",
        "Support takes too long to answer.",
        "Hard to roll out to the team.",
        "Reporting does not do what we need.",
        "",
    ],
    "passive": ["Does the job.", "Good, but pricey.", ""],
    "promoter": ["Our team loves it.", "Great support from our CSM.", "Saves us hours every week.", ""],
}


def _latest_health(home: Path) -> dict[int, float]:
    table = pq.read_table(home / "demo_ground_truth.parquet", columns=["account_id", "month", "health"])
    table = table.sort_by([("account_id", "ascending"), ("month", "ascending")])
    ids = table.column("account_id").to_numpy()
    health = table.column("health").to_numpy()
    last = np.r_[ids[1:] != ids[:-1], True]  # the last month of each account
    return dict(zip(ids[last].tolist(), health[last].tolist(), strict=True))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@transaction.atomic
def write_demo_signals(*, seed: int, today: dt.date, home: Path) -> tuple[int, int]:
    """NPS responses (last 90 days) and onboarding milestones for the demo accounts; replaces earlier ones."""
    rng = np.random.default_rng(seed + 505)
    health = _latest_health(home)
    demo = Account.objects.filter(external_id__startswith="demo-")
    NpsResponse.objects.filter(account__in=demo).delete()
    # Its own milestones only (on no outcome's path): those of the plans from a template
    # (tandem.success.demo) stay, with their timeline entries.
    own = SuccessMilestone.objects.filter(account__in=demo, outcome__isnull=True)
    TimelineEvent.objects.filter(account__in=demo, kind=EventKind.SURVEY_ANSWERED).delete()
    TimelineEvent.objects.filter(
        account__in=demo, kind=EventKind.MILESTONE_REACHED, target_id__in=own.values("pk")
    ).delete()  # they point at the answers and milestones deleted here
    own.delete()
    accounts = list(
        demo.exclude(lifecycle_stage=LifecycleStage.CHURNED).values_list("id", "start_date", "csm_owner_id")
    )
    contacts: dict[int, list[int]] = {}
    for cid, aid in Contact.objects.filter(account__in=demo, still_at_company=True).values_list("id", "account_id"):
        contacts.setdefault(aid, []).append(cid)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    nps, milestones = [], []
    for aid, start, csm in accounts:
        h = float(health.get(aid, 0.0))
        people = contacts.get(aid, [])
        if people and rng.random() < 0.45:  # about half the accounts answered the last survey
            for cid in rng.choice(people, size=min(len(people), int(rng.integers(1, 4))), replace=False):
                score = int(np.clip(round(7.6 + 2.0 * h + rng.normal(0, 1.4)), 0, 10))
                kind = "detractor" if score <= 6 else "promoter" if score >= 9 else "passive"
                nps.append(
                    NpsResponse(
                        account_id=aid,
                        contact_id=int(cid),
                        score=score,
                        comment=str(rng.choice(COMMENTS[kind])),
                        responded_at=now - dt.timedelta(days=int(rng.integers(0, 90)), hours=int(rng.integers(0, 8))),
                    )
                )
        if start and (today - start).days <= 120:
            for title, offset in MILESTONES:
                due = start + dt.timedelta(days=offset)
                reached = due <= today + dt.timedelta(days=3) and rng.random() < _sigmoid(1.2 + 1.8 * h)
                done_on = min(today, due + dt.timedelta(days=int(rng.integers(-3, 6))))
                milestones.append(
                    SuccessMilestone(
                        account_id=aid,
                        title=title,
                        due_date=due,
                        owner_id=csm,
                        completed_at=dt.datetime.combine(done_on, dt.time(15), tzinfo=dt.UTC) if reached else None,
                    )
                )
    now = timezone.now()
    nps_response_bulk_create(acting_user=None, responses=nps, now=now)
    milestone_bulk_create(acting_user=None, milestones=milestones, now=now)
    return len(nps), len(milestones)


def signals_step(ctx: DemoContext) -> None:
    """Registered first in tandem.demo.pipeline.POST_BUILD_STEPS: the metrics step reads NPS and milestones."""
    advance = ctx.phases.start("Survey answers and success milestones", 1)
    write_demo_signals(seed=ctx.seed, today=ctx.today, home=ctx.home)
    advance(1)


def demo_step(ctx: DemoContext) -> None:
    """Registered in tandem.demo.pipeline.POST_BUILD_STEPS before the daily pipeline, which evaluates the rules."""
    advance = ctx.phases.start("Playbooks and rules", 1)
    install_shipped(acting_user=None)
    advance(1)
