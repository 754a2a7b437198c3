"""The world the access tests share: two books (inside and outside the reader's), set-up objects, a user per role.

In it CSMs and account managers see and change only their own book (the restrictive rule an admin
may choose); account managers see contract values, CSMs do not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tandem.access.models import AccessPolicy, BookScope, Team
from tandem.audit.context import audit_context
from tandem.health.models import Scorecard
from tandem.ingest.models import Source
from tandem.ingest.services import source_create
from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.playbooks.models import CallToAction, CtaTask, CtaType, Playbook, Rule, WorkPool
from tandem.success.models import DesiredOutcome, KpiKind, SuccessMilestone, SuccessPlan
from tandem.users.models import ApiToken, User
from tandem.users.roles import Role
from tandem.users.services import api_token_create, user_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
)

TODAY = timezone.localdate()
ROLES = (Role.ADMIN, Role.CS_MANAGER, Role.CSM, Role.ACCOUNT_MANAGER, Role.READ_ONLY)
BOOK_ROLES = (Role.CSM, Role.ACCOUNT_MANAGER)  # restricted to their own book


@dataclass
class Objects:
    account: Any
    contact: Any
    subscription: Any
    ticket: Any
    interaction: Any
    cta: CallToAction
    task: CtaTask
    renewal: Opportunity
    expansion: Opportunity
    milestone: SuccessMilestone
    outcome: DesiredOutcome


@dataclass
class World:
    users: dict[Role, User]
    other: User
    inside: Objects
    outside: Objects
    rule: Rule
    pool: WorkPool
    scorecard: Scorecard
    source: Source
    team: Team
    token_of: dict[int, ApiToken]
    other_token: ApiToken
    secrets: dict[int, str]


def _objects(owner: User, am: User | None, name: str, playbook: Playbook) -> Objects:
    account = AccountFactory(name=name, csm_owner=owner, am_owner=am, arr=Decimal("12000"), mrr=Decimal("1000"))
    subscription = SubscriptionFactory(
        account=account, start_date=TODAY - dt.timedelta(days=300), end_date=TODAY + dt.timedelta(days=65)
    )
    SubscriptionItemFactory(subscription=subscription, product=ProductFactory(code="seat"))
    cta = CallToAction.objects.create(
        account=account,
        type=CtaType.RISK,
        title=f"Save {name}",
        owner=owner,
        playbook=playbook,
        opened_on=TODAY,
        due_date=TODAY,
    )
    task = CtaTask.objects.create(cta=cta, position=1, title="Call the sponsor", assignee=owner, due_date=TODAY)
    renewal = Opportunity.objects.create(
        account=account,
        kind=OpportunityKind.RENEWAL,
        name=f"{name} renewal",
        amount=Decimal("12000"),
        current_arr=Decimal("12000"),
        stage=Stage.QUALIFY,
        probability=Decimal("50"),
        close_date=subscription.end_date,
        subscription=subscription,
        owner=am,
    )
    expansion = Opportunity.objects.create(
        account=account,
        kind=OpportunityKind.UPSELL,
        name=f"{name} upsell",
        amount=Decimal("5000"),
        stage=Stage.QUALIFY,
        probability=Decimal("20"),
        close_date=TODAY + dt.timedelta(days=40),
        owner=am,
    )
    milestone = SuccessMilestone.objects.create(
        account=account, title="Go live", owner=owner, due_date=TODAY + dt.timedelta(days=10)
    )
    plan = SuccessPlan.objects.create(account=account)
    outcome = DesiredOutcome.objects.create(plan=plan, title="Hours saved", kpi_kind=KpiKind.REPORTED, target=40)
    return Objects(
        account,
        ContactFactory(account=account),
        subscription,
        TicketFactory(account=account),
        InteractionFactory(account=account),
        cta,
        task,
        renewal,
        expansion,
        milestone,
        outcome,
    )


def make_world() -> World:
    with audit_context(via="fixture"):
        users = {
            role: user_create(acting_user=None, username=role.value, password=None, roles=[role]) for role in ROLES
        }
        other = user_create(acting_user=None, username="other_csm", password=None, roles=[Role.CSM])
        for role in BOOK_ROLES:
            AccessPolicy.objects.create(
                role=role,
                view_accounts=BookScope.OWN,
                change_accounts=BookScope.OWN,
                see_contract_values=role == Role.ACCOUNT_MANAGER,
                change_commercial=role == Role.ACCOUNT_MANAGER,
            )
        playbook = Playbook.objects.create(key="save", name="Save the account")
        inside = _objects(users[Role.CSM], users[Role.ACCOUNT_MANAGER], "Inside", playbook)
        outside = _objects(other, None, "Outside", playbook)
        pool = WorkPool.objects.create(name="Digital pool")
        rule = Rule.objects.create(
            name="Poor health", trigger="health_band", params={"bands": ["poor"]}, playbook=playbook, pool=pool
        )
        scorecard = Scorecard.objects.create(name="Primary", is_primary=True)
        source, _key = source_create(acting_user=None, name="Web app")
        team = Team.objects.create(name="EMEA")
        token_of: dict[int, ApiToken] = {}
        secrets: dict[int, str] = {}
        for user in users.values():
            token, secret = api_token_create(acting_user=None, user=user, name="tests")
            token_of[user.pk], secrets[user.pk] = token, secret
        other_token, _secret = api_token_create(acting_user=None, user=other, name="theirs")
    return World(users, other, inside, outside, rule, pool, scorecard, source, team, token_of, other_token, secrets)
