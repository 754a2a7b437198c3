"""Writes on opportunities: create, move through stages, close renewals (rolling the contract) and quotas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import live_account_q
from tandem.audit.context import write_service
from tandem.audit.services import audit_rows_written
from tandem.core.errors import DomainError, FieldError
from tandem.core.money import to_cents
from tandem.core.services import model_save, model_validate
from tandem.opportunities.models import (
    EXPANSION_KINDS,
    OPEN_STAGES,
    STAGE_FORECAST,
    STAGE_PROBABILITY,
    ChurnReason,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunitySource,
    Quota,
    RenewalOutcome,
    RenewalPolicy,
    Stage,
)
from tandem.subscriptions.models import Subscription
from tandem.subscriptions.selectors import exchange_rates_as_of, subscriptions_current
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create, subscription_update
from tandem.timeline import events
from tandem.timeline.models import EventKind

if TYPE_CHECKING:
    from tandem.accounts.models import Account
    from tandem.users.models import User

RENEWAL_PROBABILITY = {
    ForecastCategory.COMMIT: Decimal("90"),
    ForecastCategory.BEST_CASE: Decimal("70"),
    ForecastCategory.PIPELINE: Decimal("40"),
    ForecastCategory.OMITTED: Decimal("0"),
}
DEFAULT_CHURN_REASONS = (
    ("budget", "Budget cut"),
    ("product_fit", "Product did not fit"),
    ("competitor", "Moved to a competitor"),
    ("champion_left", "Champion left"),
    ("low_adoption", "Low adoption"),
    ("acquired", "Acquired or merged"),
    ("out_of_business", "Went out of business"),
    ("support", "Support experience"),
)


@write_service
def churn_reasons_ensure_defaults(*, acting_user: User | None) -> int:
    """Create the default churn reasons that are missing. Idempotent; returns how many were added."""
    existing = set(ChurnReason.objects.values_list("code", flat=True))
    missing = [ChurnReason(code=code, name=name) for code, name in DEFAULT_CHURN_REASONS if code not in existing]
    ChurnReason.objects.bulk_create(missing)
    audit_rows_written(model=ChurnReason, created=missing)
    return len(missing)


def renewal_lead_days() -> dict[str, int]:
    """Days before a term's end that its renewal opens, by tier (policies override settings)."""
    lead = dict(settings.TANDEM_RENEWAL_LEAD_DAYS)
    lead.update(dict(RenewalPolicy.objects.values_list("tier", "lead_days")))
    return lead


def _check_expansion_kind(kind: str) -> None:
    if kind not in EXPANSION_KINDS:
        raise DomainError(
            _("Invalid opportunity."),
            [FieldError("kind", _("Create renewals from contract terms; choose upsell, cross-sell or add-on."))],
        )


def _record(opportunity: Opportunity, kind: EventKind, *, acting_user: User | None, **data: object) -> None:
    """Put a change of the opportunity on its account's timeline (amounts in the reporting currency)."""
    events.record(
        account_id=opportunity.account_id,
        kind=kind,
        occurred_at=timezone.now(),
        actor_id=acting_user.pk if acting_user is not None else None,
        target=opportunity,
        data={"name": opportunity.name, "currency": settings.TANDEM_REPORTING_CURRENCY, **data},
    )


def _record_stage_move(
    opportunity: Opportunity, *, acting_user: User | None, stage_before: str, amount_before: Decimal
) -> None:
    if opportunity.stage == stage_before and opportunity.amount == amount_before:
        return
    if opportunity.stage == Stage.CLOSED_WON:
        _record(opportunity, EventKind.OPPORTUNITY_WON, acting_user=acting_user, amount=opportunity.amount)
    elif opportunity.stage == Stage.CLOSED_LOST:
        reason = opportunity.churn_reason.name if opportunity.churn_reason_id and opportunity.churn_reason else ""
        _record(opportunity, EventKind.OPPORTUNITY_LOST, acting_user=acting_user, amount=amount_before, reason=reason)
    else:
        _record(
            opportunity,
            EventKind.OPPORTUNITY_CHANGED,
            acting_user=acting_user,
            stage_before=stage_before,
            stage=opportunity.stage,
            amount_before=amount_before,
            amount=opportunity.amount,
        )


def opportunity_history_record(*, opportunities: Sequence[Opportunity]) -> int:
    """Timeline events for opportunities written in bulk as they were (the demo's past year, a
    migration): each is opened, and a closed one won or lost on its closing day."""
    currency = settings.TANDEM_REPORTING_CURRENCY
    found: list[events.Event] = []
    for o in opportunities:
        closed = o.closed_on is not None and o.stage in (Stage.CLOSED_WON, Stage.CLOSED_LOST)
        if o.kind != OpportunityKind.RENEWAL:
            opened_on = (o.closed_on or timezone.localdate()) - dt.timedelta(days=45 if closed else 20)
            found.append(
                events.Event(
                    account_id=o.account_id,
                    kind=EventKind.OPPORTUNITY_OPENED,
                    occurred_at=timezone.make_aware(dt.datetime.combine(opened_on, dt.time(10))),
                    actor_id=o.owner_id,
                    target=o,
                    data={
                        "name": o.name,
                        "type": o.kind,
                        "stage": Stage.QUALIFY,
                        "amount": o.amount,
                        "currency": currency,
                    },
                )
            )
        if closed:
            assert o.closed_on is not None
            won = o.stage == Stage.CLOSED_WON
            found.append(
                events.Event(
                    account_id=o.account_id,
                    kind=EventKind.OPPORTUNITY_WON if won else EventKind.OPPORTUNITY_LOST,
                    occurred_at=timezone.make_aware(dt.datetime.combine(o.closed_on, dt.time(16))),
                    actor_id=o.owner_id,
                    target=o,
                    data={
                        "name": o.name,
                        "amount": o.amount if won else (o.current_arr or o.amount),
                        "currency": currency,
                        "reason": o.churn_reason.name if not won and o.churn_reason is not None else "",
                    },
                )
            )
    return events.record_many(found)


@write_service
def opportunity_create(
    *,
    acting_user: User | None,
    account: Account,
    kind: str,
    amount: Decimal,
    close_date: dt.date,
    owner: User | None = None,
    name: str = "",
    stage: str = Stage.QUALIFY,
    probability: Decimal | None = None,
    forecast_category: str | None = None,
    source: str = OpportunitySource.MANUAL,
    source_ref: str = "",
    notes: str = "",
) -> Opportunity:
    """Open an expansion opportunity (upsell, cross-sell or add-on) on an account.

    ``amount`` is the ARR it adds, in the reporting currency. ``owner`` defaults to the account's
    AM; ``probability`` and ``forecast_category`` default from the stage. Other apps (for example
    expansion CTAs) call this with ``source="cta"`` and their own id in ``source_ref``. An archived
    account takes none. Raises DomainError naming each invalid field; nothing is written then.
    """
    _check_expansion_kind(kind)
    if stage not in OPEN_STAGES:
        raise DomainError(_("Invalid opportunity."), [FieldError("stage", _("A new opportunity must be open."))])
    if account.is_archived:  # no longer worked: its deal would show on no board
        raise DomainError(
            _("Invalid opportunity."),
            [FieldError("account", _("The account is archived; restore it to open work on it."))],
        )
    opportunity = Opportunity(
        account=account,
        kind=kind,
        name=name or _("%(kind)s for %(account)s") % {"kind": OpportunityKind(kind).label, "account": account.name},
        owner=owner if owner is not None else account.am_owner,
        stage=stage,
        probability=STAGE_PROBABILITY[Stage(stage)] if probability is None else probability,
        forecast_category=forecast_category or STAGE_FORECAST[Stage(stage)],
        amount=amount,
        close_date=close_date,
        source=source,
        source_ref=source_ref,
        notes=notes,
    )
    model_validate(opportunity, message=_("Invalid opportunity."))
    model_save(opportunity, message=_("Invalid opportunity."))
    _record(
        opportunity,
        EventKind.OPPORTUNITY_OPENED,
        acting_user=acting_user,
        type=opportunity.kind,
        stage=opportunity.stage,
        amount=opportunity.amount,
    )
    return opportunity


@write_service
def opportunity_move_stage(
    *, acting_user: User | None, opportunity: Opportunity, stage: str, closed_on: dt.date | None = None
) -> Opportunity:
    """Move an expansion opportunity to another stage; closing it stamps ``closed_on``."""
    _check_expansion_kind(opportunity.kind)
    if stage not in Stage.values:
        raise DomainError(_("Invalid stage."), [FieldError("stage", _("Unknown stage."))])
    stage_before, amount_before = opportunity.stage, opportunity.amount
    opportunity.stage = stage
    opportunity.probability = STAGE_PROBABILITY[Stage(stage)]
    if stage in OPEN_STAGES:
        opportunity.forecast_category = STAGE_FORECAST[Stage(stage)]
        opportunity.closed_on = None
    else:
        won = stage == Stage.CLOSED_WON
        opportunity.forecast_category = ForecastCategory.COMMIT if won else ForecastCategory.OMITTED
        opportunity.closed_on = closed_on or timezone.localdate()
    model_save(opportunity, message=_("Invalid opportunity."))
    _record_stage_move(opportunity, acting_user=acting_user, stage_before=stage_before, amount_before=amount_before)
    return opportunity


@write_service
def renewal_set_forecast(
    *, acting_user: User | None, opportunity: Opportunity, forecast_category: str, amount: Decimal | None = None
) -> Opportunity:
    """Set an open renewal's forecast category (commit, probable, at risk, lost) and expected amount."""
    if not opportunity.is_renewal or not opportunity.is_open:
        raise DomainError(_("Invalid renewal."), [FieldError("non_field", _("Only open renewals have a forecast."))])
    if forecast_category not in ForecastCategory.values:
        raise DomainError(_("Invalid renewal."), [FieldError("forecast_category", _("Unknown forecast category."))])
    amount_before = opportunity.amount
    opportunity.forecast_category = forecast_category
    opportunity.probability = RENEWAL_PROBABILITY[ForecastCategory(forecast_category)]
    if amount is not None:
        opportunity.amount = amount
    model_validate(opportunity, message=_("Invalid renewal."))
    model_save(opportunity, message=_("Invalid renewal."))
    if opportunity.amount != amount_before:  # a new forecast category alone is the AM's view, not a change
        _record_stage_move(
            opportunity, acting_user=acting_user, stage_before=opportunity.stage, amount_before=amount_before
        )
    return opportunity


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    import calendar

    last = calendar.monthrange(day.year + year, month + 1)[1]
    return dt.date(day.year + year, month + 1, min(day.day, last))


def _term_months(term: Subscription) -> int:
    assert term.end_date is not None
    after = term.end_date + dt.timedelta(days=1)
    return max((after.year - term.start_date.year) * 12 + after.month - term.start_date.month, 1)


@write_service
def renewal_close(
    *,
    acting_user: User | None,
    opportunity: Opportunity,
    churned: bool = False,
    churn_reason: ChurnReason | None = None,
    items: Sequence[SubscriptionItemInput] | None = None,
    closed_on: dt.date | None = None,
) -> Opportunity:
    """Close a renewal: churned (with a reason), or renewed into the next contract term.

    Renewed: the next term starts the day after the current one ends, runs as many months, and has
    ``items`` (default: the current term's lines unchanged). The outcome is renewed, renewed with
    expansion or renewed with contraction by comparing the two terms' ARR in the contract currency.
    The current term's renewal date moves to the new term's, so the account's renewal date rolls
    forward, and the account's revenue is refreshed by the subscription services.
    """
    if not opportunity.is_renewal or not opportunity.is_open:
        raise DomainError(_("Invalid renewal."), [FieldError("non_field", _("This renewal is already closed."))])
    term = opportunity.subscription
    closed_on = closed_on or timezone.localdate()
    stage_before, amount_before = opportunity.stage, opportunity.amount
    if churned:
        if churn_reason is None:
            raise DomainError(_("Invalid renewal."), [FieldError("churn_reason", _("Choose a churn reason."))])
        opportunity.outcome = RenewalOutcome.CHURNED
        opportunity.churn_reason = churn_reason
        opportunity.stage = Stage.CLOSED_LOST
        opportunity.forecast_category = ForecastCategory.OMITTED
        opportunity.probability = Decimal("0")
        opportunity.amount = Decimal("0")
        if term is not None:
            subscription_update(
                acting_user=acting_user, subscription=term, data={"auto_renew": False, "renewal_date": None}
            )
    else:
        if term is None or term.end_date is None:
            raise DomainError(
                _("Invalid renewal."), [FieldError("subscription", _("The renewal has no fixed-term contract."))]
            )
        if items is None:
            items = [
                SubscriptionItemInput(product=i.product, quantity=i.quantity, unit_price=i.unit_price)
                for i in term.items.select_related("product")
            ]
        start = term.end_date + dt.timedelta(days=1)
        end = _add_months(start, _term_months(term)) - dt.timedelta(days=1)
        new_term = subscription_create(
            acting_user=acting_user,
            account=term.account,
            start_date=start,
            end_date=end,
            renewal_date=end + dt.timedelta(days=1),
            items=items,
            currency=term.currency,
            billing_period=term.billing_period,
            auto_renew=term.auto_renew,
        )
        subscription_update(acting_user=acting_user, subscription=term, data={"renewal_date": new_term.renewal_date})
        rate = exchange_rates_as_of(on=closed_on).get(new_term.currency, Decimal("1"))
        opportunity.amount = to_cents(new_term.arr * rate)
        if new_term.arr > term.arr:
            opportunity.outcome = RenewalOutcome.EXPANDED
        elif new_term.arr < term.arr:
            opportunity.outcome = RenewalOutcome.CONTRACTED
        else:
            opportunity.outcome = RenewalOutcome.RENEWED
        opportunity.next_subscription = new_term
        opportunity.stage = Stage.CLOSED_WON
        opportunity.forecast_category = ForecastCategory.COMMIT
        opportunity.probability = Decimal("100")
    opportunity.closed_on = closed_on
    model_save(opportunity, message=_("Invalid renewal."))
    _record_stage_move(opportunity, acting_user=acting_user, stage_before=stage_before, amount_before=amount_before)
    return opportunity


def renewal_lines_from_form(*, opportunity: Opportunity, data: Mapping[str, str]) -> list[SubscriptionItemInput]:
    """The next term's lines from a form: ``quantity_<item id>`` and ``unit_price_<item id>`` per
    current line (missing fields keep the current value; quantity 0 drops the line).

    Raises DomainError naming each bad field, so nothing is closed on bad input.
    """
    term = opportunity.subscription
    if term is None:
        raise DomainError(_("Invalid renewal."), [FieldError("subscription", _("The renewal has no contract."))])
    lines: list[SubscriptionItemInput] = []
    errors: list[FieldError] = []
    for item in term.items.select_related("product").order_by("id"):
        values: dict[str, Decimal] = {}
        for name, current in (("quantity", item.quantity), ("unit_price", item.unit_price)):
            key = f"{name}_{item.pk}"
            raw = (data.get(key) or "").strip()
            try:
                value = Decimal(raw) if raw else Decimal(current)
            except InvalidOperation:
                errors.append(FieldError(key, _("'%(value)s' is not a number.") % {"value": raw}))
                continue
            if value < 0:
                errors.append(FieldError(key, _("Must not be negative.")))
            values[name] = value
        if len(values) == 2 and values["quantity"] > 0:
            lines.append(
                SubscriptionItemInput(
                    product=item.product, quantity=values["quantity"], unit_price=values["unit_price"]
                )
            )
    if errors:
        raise DomainError(_("Invalid renewal."), errors)
    if not lines:
        raise DomainError(
            _("Invalid renewal."),
            [FieldError("non_field", _("Keep at least one line, or close the renewal as churned."))],
        )
    return lines


def renewal_initial_forecast(*, auto_renew: bool) -> str:
    return ForecastCategory.COMMIT if auto_renew else ForecastCategory.BEST_CASE


@write_service
def renewals_open_due(*, acting_user: User | None, today: dt.date | None = None) -> list[Opportunity]:
    """Open a renewal opportunity for every fixed-term contract within its tier's lead time of ending.

    A term qualifies when it is current, has an end date, no later term of the account follows
    it, it has no renewal opportunity yet and its account is not archived (a restored account's
    term gets its renewal on the next run). Idempotent: running it twice opens nothing new.
    """
    today = today or timezone.localdate()
    lead = renewal_lead_days()
    rates = exchange_rates_as_of(on=today)
    later = Subscription.objects.filter(account_id=OuterRef("account_id"), start_date__gt=OuterRef("start_date"))
    terms = (
        subscriptions_current(on=today)
        .filter(live_account_q(), end_date__isnull=False)
        .exclude(Exists(Opportunity.objects.filter(kind=OpportunityKind.RENEWAL, subscription_id=OuterRef("pk"))))
        .exclude(Exists(later))
        .select_related("account")
    )
    created: list[Opportunity] = []
    for term in terms:
        assert term.end_date is not None
        if (term.end_date - today).days > lead.get(term.account.tier, 90):
            continue
        arr = to_cents(term.arr * rates.get(term.currency, Decimal("1")))
        forecast = renewal_initial_forecast(auto_renew=term.auto_renew)
        created.append(
            Opportunity(
                account=term.account,
                kind=OpportunityKind.RENEWAL,
                name=_("Renewal %(date)s") % {"date": (term.end_date + dt.timedelta(days=1)).isoformat()},
                owner_id=term.account.am_owner_id,
                stage=Stage.NEGOTIATE if forecast == ForecastCategory.COMMIT else Stage.PROPOSE,
                probability=RENEWAL_PROBABILITY[ForecastCategory(forecast)],
                forecast_category=forecast,
                amount=arr,
                current_arr=arr,
                close_date=term.end_date,
                source=OpportunitySource.AUTOMATIC,
                subscription=term,
            )
        )
    Opportunity.objects.bulk_create(created, batch_size=2000)
    audit_rows_written(model=Opportunity, created=created)
    now = timezone.now()
    events.record_many(
        events.Event(
            account_id=o.account_id,
            kind=EventKind.OPPORTUNITY_OPENED,
            occurred_at=now,
            actor_id=acting_user.pk if acting_user is not None else None,
            target=o,
            data={
                "name": o.name,
                "type": o.kind,
                "stage": o.stage,
                "amount": o.amount,
                "currency": settings.TANDEM_REPORTING_CURRENCY,
            },
        )
        for o in created
    )
    return created


@write_service
def quota_set(
    *, acting_user: User | None, owner: User, period_start: dt.date, period_end: dt.date, amount: Decimal
) -> Quota:
    """Set (create or replace) an AM's quota for the period starting on ``period_start``."""
    quota = Quota.objects.filter(owner=owner, period_start=period_start).first() or Quota(
        owner=owner, period_start=period_start
    )
    quota.period_end, quota.amount = period_end, amount
    model_validate(quota, message=_("Invalid quota."), exclude=["owner"])
    model_save(quota, message=_("Invalid quota."))
    return quota


# --- set-up: renewal lead times and churn reasons (Settings → Renewals) -------------------------


@write_service
def renewal_lead_days_save(*, acting_user: User | None, lead_days: Mapping[str, int]) -> dict[str, int]:
    """Days before a term's end that its renewal opens, per tier (0-730); returns them all."""
    from tandem.accounts.models import Tier

    errors = [
        FieldError(f"lead_days.{tier}", _("Between 0 and 730 days."))
        for tier, days in lead_days.items()
        if tier in Tier.values and not 0 <= int(days) <= 730
    ]
    errors += [
        FieldError("lead_days", _("Unknown tier %(tier)s.") % {"tier": tier})
        for tier in lead_days
        if tier not in Tier.values
    ]
    if errors:
        raise DomainError(_("Invalid renewal lead times."), errors)
    for tier, days in lead_days.items():
        policy = RenewalPolicy.objects.filter(tier=tier).first() or RenewalPolicy(tier=tier)
        if policy.pk is None or policy.lead_days != int(days):
            policy.lead_days = int(days)
            policy.save()
    return renewal_lead_days()


@write_service
def churn_reason_save(
    *, acting_user: User | None, reason: ChurnReason | None = None, name: str, is_active: bool = True
) -> ChurnReason:
    """Create or rename a churn reason, or retire it (``is_active``); its code is made from the first name."""
    from django.utils.text import slugify

    reason = reason or ChurnReason()
    reason.name, reason.is_active = name.strip(), is_active
    if not reason.code:
        base = slugify(name)[:40] or "reason"
        code, n = base, 1
        while ChurnReason.objects.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        reason.code = code
    message = _("Invalid churn reason.")
    model_validate(reason, message=message)
    model_save(reason, message=message)
    return reason
