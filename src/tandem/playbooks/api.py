"""REST endpoints for rules (with a preview), CTAs and the work queue."""

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import QuerySet
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, ensure_model
from tandem.access.shortcuts import get_for_write
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve, resolve_required
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks import selectors, services
from tandem.playbooks.models import (
    CallToAction,
    CtaOutcome,
    CtaPriority,
    CtaStatus,
    CtaType,
    EmailTemplate,
    Playbook,
    PlaybookStep,
    PoolStrategy,
    Rule,
    StepKind,
    StepRole,
    WorkPool,
)
from tandem.playbooks.rules import TRIGGERS

router = Router(tags=["Playbooks"])


# The registered triggers (tandem/playbooks/rules), so that the schema offers exactly those.
if TYPE_CHECKING:
    TriggerKey = str
else:
    TriggerKey = Literal[tuple(TRIGGERS)]


class RuleIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = ""
    trigger: TriggerKey = Field(..., description="One of the keys of GET /playbooks/triggers.")
    params: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = Field(
        [],
        description='e.g. [{"field": "tier", "op": "in", "value": ["enterprise"]}, '
        '{"metric": "logins_30d", "op": "lt", "value": 5}]',
    )
    playbook: Id
    cta_type: CtaType = CtaType.RISK
    priority: CtaPriority = CtaPriority.MEDIUM
    owner_role: StepRole = StepRole.CSM
    pool: Id | None = None
    due_in_days: int = Field(7, ge=0, le=365)
    reopen_after_days: int = Field(30, ge=0, le=3650)
    is_active: bool = True


class RuleOut(Schema):
    id: int
    name: str
    description: str
    trigger: str
    params: dict[str, Any]
    conditions: list[dict[str, Any]]
    playbook: int = Field(..., alias="playbook_id")
    cta_type: str
    priority: int
    owner_role: str
    pool: int | None = Field(None, alias="pool_id")
    due_in_days: int
    reopen_after_days: int
    is_active: bool


class PreviewIn(Schema):
    trigger: str
    params: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = []


class PreviewAccount(Schema):
    id: int
    name: str
    reason: str


class PreviewOut(Schema):
    count: int
    accounts: list[PreviewAccount]
    unavailable: str


class TriggerOut(Schema):
    key: str
    label: str
    defaults: dict[str, Any]


class CtaOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    rule: int | None = Field(None, alias="rule_id")
    type: str
    priority: int
    title: str
    reason: str = Field(..., alias="reason_display", description="Why it opened, in the caller's language.")
    owner: int | None = Field(None, alias="owner_id")
    status: str
    opened_on: dt.date
    due_date: dt.date
    snoozed_until: dt.date | None
    outcome: str
    priority_score: float


class CtaFilter(Schema):
    status: CtaStatus | None = None
    owner: Id | None = None
    account: Id | None = None


class CloseIn(Schema):
    outcome: CtaOutcome
    reason: str = ""


def _rule_data(payload: RuleIn) -> dict[str, Any]:
    data = payload.dict()
    data["playbook"] = resolve_required(Playbook, payload.playbook, field="playbook")
    data["pool"] = resolve(WorkPool, payload.pool, field="pool")
    return data


@router.get("/triggers", response=list[TriggerOut], summary="List the triggers a rule can use")
def list_triggers(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    return [{"key": k, "label": str(s.label), "defaults": s.defaults} for k, s in TRIGGERS.items()]


@router.get("/rules", response={200: list[RuleOut], **PROBLEM_RESPONSES}, summary="List rules")
@paginate(Pagination)
def list_rules(request: AuthenticatedHttpRequest) -> QuerySet[Rule]:
    require_perm(request, "accounts.view_account")
    return Rule.objects.order_by("name", "id")


@router.post("/rules", response={201: RuleOut, **PROBLEM_RESPONSES}, summary="Create a rule")
def create_rule(request: AuthenticatedHttpRequest, payload: RuleIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Rule)  # "manages configuration": CS managers and admins
    return Status(201, services.rule_save(acting_user=request.user, **_rule_data(payload)))


@router.post(
    "/rules/preview", response={200: PreviewOut, **PROBLEM_RESPONSES}, summary="Which accounts a rule matches now"
)
def preview_rule(request: AuthenticatedHttpRequest, payload: PreviewIn) -> dict[str, Any]:
    require_perm(request, "accounts.view_account")
    preview = services.rule_preview(
        trigger=payload.trigger, params=payload.params, conditions=payload.conditions, today=timezone.localdate()
    )
    return {"count": preview.count, "accounts": preview.accounts, "unavailable": preview.unavailable}


@router.put("/rules/{rule_id}", response={200: RuleOut, **PROBLEM_RESPONSES}, summary="Replace a rule")
def update_rule(request: AuthenticatedHttpRequest, rule_id: Id, payload: RuleIn) -> Rule:
    return services.rule_save(
        acting_user=request.user, rule=get_for_write(Rule, user=request.user, pk=rule_id), **_rule_data(payload)
    )


@router.get("/ctas", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="List calls to action")
@paginate(Pagination)
def list_ctas(request: AuthenticatedHttpRequest, filters: Query[CtaFilter]) -> QuerySet[CallToAction]:
    require_perm(request, "accounts.view_account")
    return selectors.cta_list(
        user=request.user, status=filters.status, owner_id=filters.owner, account_id=filters.account
    )


@router.get("/my-day", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="My open CTAs in queue order")
def my_day(request: AuthenticatedHttpRequest) -> list[CallToAction]:
    return selectors.my_day(user=request.user, today=timezone.localdate())


@router.post("/ctas/{cta_id}/close", response={200: CtaOut, **PROBLEM_RESPONSES}, summary="Close a CTA")
def close_cta(request: AuthenticatedHttpRequest, cta_id: Id, payload: CloseIn) -> CallToAction:
    require_perm(request, "accounts.change_account")
    cta = get_for_write(CallToAction, user=request.user, pk=cta_id)
    return services.cta_close(acting_user=request.user, cta=cta, outcome=payload.outcome, reason=payload.reason)


# --- set-up: the shipped library, playbooks, email templates, work pools ---------------------------


class LibraryIn(Schema):
    language: str | None = Field(None, description="en, vi, ja, fa or zh-hans; the company's language by default.")
    with_metrics: bool = True


class LibraryOut(Schema):
    language: str
    created: dict[str, int]


@router.post(
    "/library/install",
    response={200: LibraryOut, **PROBLEM_RESPONSES},
    summary="Install what is missing of the shipped library (idempotent)",
)
def install_library(request: AuthenticatedHttpRequest, payload: LibraryIn) -> dict[str, Any]:
    ensure_model(request.user, Action.CHANGE, Playbook)
    report = services.library_install(
        acting_user=request.user, language=payload.language, with_metrics=payload.with_metrics
    )
    return {"language": report.language, "created": report.created}


class StepIn(Schema):
    id: Id | None = Field(None, description="A step of this playbook to keep (its CTAs keep their link).")
    kind: StepKind = StepKind.TASK
    title: str = Field(..., max_length=200)
    role: StepRole = StepRole.ACCOUNT_OWNER
    due_offset_days: int = Field(0, ge=0, le=3650)
    email_template: Id | None = None
    auto_send: bool = False
    body: str = ""
    condition: dict[str, Any] = Field({}, description='Branch steps: {"field": "tier", "op": "eq", "value": "smb"}')
    skip_if_false: int = Field(0, ge=0, le=50)


class StepOut(Schema):
    id: int
    position: int
    kind: str
    title: str
    role: str
    due_offset_days: int
    email_template: int | None = Field(None, alias="email_template_id")
    auto_send: bool
    body: str
    condition: dict[str, Any]
    skip_if_false: int


class PlaybookIn(Schema):
    name: str = Field(..., max_length=200)
    key: str = Field("", max_length=80, description="Made from the name when empty.")
    description: str = ""
    cta_type: CtaType = CtaType.RISK
    is_active: bool = True
    steps: list[StepIn] = Field([], description="In order; replaces the playbook's steps.")


class PlaybookOut(Schema):
    id: int
    key: str
    name: str
    description: str
    cta_type: str
    is_active: bool
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: Playbook) -> list[PlaybookStep]:
        return list(obj.steps.all())


def _playbook_data(payload: PlaybookIn) -> dict[str, Any]:
    data = payload.dict()
    steps = []
    for step in payload.steps:
        item = step.dict()
        item["email_template"] = resolve(EmailTemplate, step.email_template, field="email_template")
        steps.append(item)
    data["steps"] = steps
    if not data["key"]:
        data.pop("key")
    return data


@router.get("/playbooks", response={200: list[PlaybookOut], **PROBLEM_RESPONSES}, summary="List playbooks")
@paginate(Pagination)
def list_playbooks(request: AuthenticatedHttpRequest) -> QuerySet[Playbook]:
    require_perm(request, "accounts.view_account")
    return Playbook.objects.prefetch_related("steps").order_by("name", "id")


@router.post("/playbooks", response={201: PlaybookOut, **PROBLEM_RESPONSES}, summary="Create a playbook")
def create_playbook(request: AuthenticatedHttpRequest, payload: PlaybookIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Playbook)
    return Status(201, services.playbook_save(acting_user=request.user, **_playbook_data(payload)))


@router.put("/playbooks/{playbook_id}", response={200: PlaybookOut, **PROBLEM_RESPONSES}, summary="Replace a playbook")
def update_playbook(request: AuthenticatedHttpRequest, playbook_id: Id, payload: PlaybookIn) -> Playbook:
    playbook = get_for_write(Playbook, user=request.user, pk=playbook_id)
    return services.playbook_save(acting_user=request.user, playbook=playbook, **_playbook_data(payload))


class VersionIO(Schema):
    language: str
    subject: str = ""
    body: str = ""


class EmailTemplateIn(Schema):
    name: str = Field(..., max_length=200)
    key: str = Field("", max_length=80, description="Made from the name when empty.")
    subject: str = Field(..., max_length=300)
    body: str
    versions: list[VersionIO] = Field([], description="Other languages; one with neither subject nor body is removed.")


class EmailTemplateOut(Schema):
    id: int
    key: str
    name: str
    subject: str
    body: str
    versions: list[VersionIO]

    @staticmethod
    def resolve_versions(obj: EmailTemplate) -> list[dict[str, str]]:
        return [{"language": v.language, "subject": v.subject, "body": v.body} for v in obj.versions.all()]


class EmailPreviewIn(Schema):
    subject: str = ""
    body: str = ""
    account: Id | None = Field(None, description="An account you may see; a sample account when omitted.")


class EmailPreviewOut(Schema):
    subject: str
    body: str
    account: int | None
    placeholders: dict[str, str]


def _template_data(payload: EmailTemplateIn) -> dict[str, Any]:
    data = payload.dict()
    if not data["key"]:
        data.pop("key")
    return data


@router.get(
    "/email-templates", response={200: list[EmailTemplateOut], **PROBLEM_RESPONSES}, summary="List email templates"
)
@paginate(Pagination)
def list_email_templates(request: AuthenticatedHttpRequest) -> QuerySet[EmailTemplate]:
    require_perm(request, "accounts.view_account")
    return EmailTemplate.objects.prefetch_related("versions").order_by("name", "id")


@router.post("/email-templates", response={201: EmailTemplateOut, **PROBLEM_RESPONSES}, summary="Create a template")
def create_email_template(request: AuthenticatedHttpRequest, payload: EmailTemplateIn) -> Status:
    ensure_model(request.user, Action.CHANGE, EmailTemplate)
    return Status(201, services.email_template_save(acting_user=request.user, **_template_data(payload)))


@router.post(
    "/email-templates/preview",
    response={200: EmailPreviewOut, **PROBLEM_RESPONSES},
    summary="Render a subject and body for an account (a sample one by default)",
)
def preview_email_template(request: AuthenticatedHttpRequest, payload: EmailPreviewIn) -> dict[str, Any]:
    require_perm(request, "accounts.view_account")
    account = None
    if payload.account is not None:
        from tandem.access.shortcuts import get_visible_or_404
        from tandem.accounts.models import Account

        account = get_visible_or_404(Account, user=request.user, pk=payload.account)
    preview = selectors.email_preview(subject=payload.subject, body=payload.body, user=request.user, account=account)
    return {
        "subject": preview.subject,
        "body": preview.body,
        "account": preview.account.pk if preview.account else None,
        "placeholders": preview.values,
    }


@router.put(
    "/email-templates/{template_id}",
    response={200: EmailTemplateOut, **PROBLEM_RESPONSES},
    summary="Replace a template",
)
def update_email_template(
    request: AuthenticatedHttpRequest, template_id: Id, payload: EmailTemplateIn
) -> EmailTemplate:
    template = get_for_write(EmailTemplate, user=request.user, pk=template_id)
    return services.email_template_save(acting_user=request.user, template=template, **_template_data(payload))


class PoolIn(Schema):
    name: str = Field(..., max_length=100)
    strategy: PoolStrategy = PoolStrategy.LEAST_LOADED
    members: list[Id] = []


class PoolOut(Schema):
    id: int
    name: str
    strategy: str
    members: list[int]

    @staticmethod
    def resolve_members(obj: WorkPool) -> list[int]:
        return sorted(u.pk for u in obj.members.all())


def _pool_data(payload: PoolIn) -> dict[str, Any]:
    from tandem.api.refs import resolve_many
    from tandem.users.models import User

    return {
        "name": payload.name,
        "strategy": payload.strategy,
        "members": resolve_many(User, payload.members, field="members"),
    }


@router.get("/pools", response={200: list[PoolOut], **PROBLEM_RESPONSES}, summary="List work pools")
@paginate(Pagination)
def list_pools(request: AuthenticatedHttpRequest) -> QuerySet[WorkPool]:
    require_perm(request, "accounts.view_account")
    return WorkPool.objects.prefetch_related("members").order_by("name", "id")


@router.post("/pools", response={201: PoolOut, **PROBLEM_RESPONSES}, summary="Create a work pool")
def create_pool(request: AuthenticatedHttpRequest, payload: PoolIn) -> Status:
    ensure_model(request.user, Action.CHANGE, WorkPool)
    return Status(201, services.work_pool_save(acting_user=request.user, **_pool_data(payload)))


@router.put("/pools/{pool_id}", response={200: PoolOut, **PROBLEM_RESPONSES}, summary="Replace a work pool")
def update_pool(request: AuthenticatedHttpRequest, pool_id: Id, payload: PoolIn) -> WorkPool:
    pool = get_for_write(WorkPool, user=request.user, pk=pool_id)
    return services.work_pool_save(acting_user=request.user, pool=pool, **_pool_data(payload))


# --- a CTA opened by hand (the account page's "New task" uses the same service) -------------------


class CtaIn(Schema):
    account: Id
    title: str = Field(..., max_length=300)
    type: CtaType = CtaType.LIFECYCLE
    priority: CtaPriority = CtaPriority.MEDIUM
    owner: Id | None = Field(None, description="Defaults to the caller.")
    due_date: dt.date
    reason: str = ""


@router.post(
    "/ctas",
    response={201: CtaOut, **PROBLEM_RESPONSES},
    summary="Open a CTA by hand",
    description="A task or call to action with one to-do for its owner; no rule or playbook.",
)
def create_cta(request: AuthenticatedHttpRequest, payload: CtaIn) -> Status:
    from django.db import transaction

    from tandem.access.shortcuts import ensure_created_in_scope
    from tandem.accounts.models import Account
    from tandem.users.models import User

    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=payload.account)
    owner = resolve(User, payload.owner, field="owner") if payload.owner else request.user
    with transaction.atomic():
        cta = services.cta_create(
            acting_user=request.user,
            account=account,
            title=payload.title,
            type=payload.type,
            priority=payload.priority,
            owner=owner,
            due_date=payload.due_date,
            today=timezone.localdate(),
            reason=payload.reason,
        )
        ensure_created_in_scope(request.user, cta)
    return Status(201, cta)
