"""The playbooks, email templates and rules Tandem ships with; installed idempotently by key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tandem.audit.context import write_service
from tandem.audit.services import audit_rows_written
from tandem.playbooks.models import (
    CtaPriority,
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

if TYPE_CHECKING:
    from tandem.users.models import User

T, E, N, W, B = StepKind.TASK, StepKind.EMAIL, StepKind.NOTIFY, StepKind.WAIT, StepKind.BRANCH
CSM, AM, MGR, OWNER = StepRole.CSM, StepRole.AM, StepRole.CS_MANAGER, StepRole.ACCOUNT_OWNER

TEMPLATES: dict[str, tuple[str, str, str]] = {
    "welcome": (
        "Welcome and kick-off",
        "Welcome to the team, {{ account.name }}!",
        "Hi {{ contact.first_name }},\n\nwelcome aboard! I am {{ csm.name }}, your customer success manager. "
        "I would love to set up a 45-minute kick-off call this week to agree on your goals and a go-live "
        "plan.\n\nBest,\n{{ csm.name }}\n{{ csm.email }}",
    ),
    "usage-check-in": (
        "Usage check-in",
        "Checking in on {{ account.name }}",
        "Hi {{ contact.first_name }},\n\nI noticed your team has been using the product less in the last few "
        "weeks. Is anything getting in the way? I am happy to run a short session for your team.\n\n"
        "Best,\n{{ sender.name }}",
    ),
    "detractor-follow-up": (
        "Detractor follow-up",
        "Thank you for your feedback",
        "Hi {{ contact.first_name }},\n\nthank you for answering our survey. I read your comments and would "
        "like to understand what we can do better. Could we talk for 20 minutes this week?\n\n{{ sender.name }}",
    ),
    "renewal-notice": (
        "Renewal notice",
        "Your renewal on {{ account.renewal_date }}",
        "Hi {{ contact.first_name }},\n\nyour subscription renews on {{ account.renewal_date }}. I will reach out "
        "to review your plan and make sure it still fits.\n\nBest,\n{{ am.name }}",
    ),
    "ebr-invite": (
        "Executive business review invitation",
        "Executive business review for {{ account.name }}",
        "Hi {{ contact.first_name }},\n\nit is time for our executive business review: results so far, your "
        "priorities for the next quarter and our roadmap. Which dates work for you?\n\n{{ sender.name }}",
    ),
}

# key: (name, type, description, [(kind, title, role, due offset, template key, auto send, branch condition, skip)])
PLAYBOOKS: dict[str, tuple[str, str, str, list[tuple]]] = {
    "onboarding-kickoff": (
        "Onboarding kick-off",
        CtaType.ONBOARDING,
        "Welcome, kick-off call and go-live plan.",
        [
            (E, "Send the welcome email", CSM, 0, "welcome", True, None, 0),
            (T, "Hold the kick-off call", CSM, 5, None, False, None, 0),
            (T, "Agree success milestones in the success plan", CSM, 7, None, False, None, 0),
            (W, "Wait two weeks", OWNER, 14, None, False, None, 0),
            (T, "Check first-month adoption", CSM, 21, None, False, None, 0),
        ],
    ),
    "usage-drop": (
        "Usage drop",
        CtaType.RISK,
        "Find out why usage fell and agree a get-well plan.",
        [
            (T, "Review usage by feature and user", OWNER, 1, None, False, None, 0),
            (E, "Send a usage check-in", OWNER, 2, "usage-check-in", False, None, 0),
            (B, "Enterprise account?", OWNER, 0, None, False, {"field": "tier", "op": "eq", "value": "enterprise"}, 1),
            (N, "Usage drop on an enterprise account", MGR, 0, None, False, None, 0),
            (T, "Call the champion and agree a get-well plan", OWNER, 7, None, False, None, 0),
        ],
    ),
    "churn-risk-save": (
        "Churn risk save",
        CtaType.RISK,
        "The churn model flags the account: confirm the drivers, tell the manager, agree a save plan.",
        [
            (T, "Review the churn-risk drivers on the account page", OWNER, 1, None, False, None, 0),
            (N, "Churn risk flagged: review the save plan with the CSM", MGR, 0, None, False, None, 0),
            (T, "Call the champion about value and blockers", OWNER, 3, None, False, None, 0),
            (T, "Agree a save plan and log it on the timeline", OWNER, 10, None, False, None, 0),
        ],
    ),
    "detractor-recovery": (
        "Detractor recovery",
        CtaType.RISK,
        "Close the loop with an NPS detractor.",
        [
            (E, "Thank them and ask for a call", OWNER, 1, "detractor-follow-up", False, None, 0),
            (T, "Call the detractor within 3 days", OWNER, 3, None, False, None, 0),
            (N, "Detractor: account manager informed", AM, 0, None, False, None, 0),
            (T, "Log the root cause and the fix agreed", OWNER, 10, None, False, None, 0),
        ],
    ),
    "renewal-120": (
        "Renewal at 120 days",
        CtaType.RENEWAL,
        "Start the renewal: health and stakeholders.",
        [
            (T, "Review health, usage and open risks with the CSM", AM, 7, None, False, None, 0),
            (T, "Confirm the decision maker and the buying process", AM, 14, None, False, None, 0),
        ],
    ),
    "renewal-90": (
        "Renewal at 90 days",
        CtaType.RENEWAL,
        "Renewal proposal.",
        [
            (E, "Send the renewal notice", AM, 2, "renewal-notice", False, None, 0),
            (T, "Send the renewal proposal", AM, 10, None, False, None, 0),
        ],
    ),
    "renewal-30": (
        "Renewal at 30 days",
        CtaType.RENEWAL,
        "Close the renewal.",
        [
            (N, "Renewal in 30 days", MGR, 0, None, False, None, 0),
            (T, "Get the order form signed", AM, 14, None, False, None, 0),
        ],
    ),
    "champion-left": (
        "Champion left",
        CtaType.RISK,
        "Replace a lost champion or executive sponsor.",
        [
            (T, "Find out who takes over and introduce yourself", CSM, 3, None, False, None, 0),
            (N, "Champion or sponsor left", AM, 0, None, False, None, 0),
            (T, "Re-run onboarding for the new champion", CSM, 14, None, False, None, 0),
        ],
    ),
    "expansion-signal": (
        "Expansion signal",
        CtaType.EXPANSION,
        "Seats are nearly all used: talk expansion.",
        [
            (T, "Check seat usage and growth plans with the CSM", AM, 3, None, False, None, 0),
            (T, "Propose additional seats or an upgrade", AM, 10, None, False, None, 0),
        ],
    ),
    "ebr": (
        "Executive business review",
        CtaType.LIFECYCLE,
        "Prepare and hold an executive business review.",
        [
            (E, "Invite the executive sponsor", CSM, 3, "ebr-invite", False, None, 0),
            (T, "Prepare the EBR deck: outcomes, usage, roadmap", CSM, 10, None, False, None, 0),
            (T, "Hold the EBR and log it on the timeline", CSM, 21, None, False, None, 0),
        ],
    ),
}

POOL = "Digital success pool"
POOL_MEMBERS = ["grace", "hiro"]

# key: (name, trigger, params, conditions, playbook, type, priority, owner role, due days, quiet days, pooled)
RULES: list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]], str, str, int, str, int, int, bool]] = [
    (
        "new-account",
        "New customer: onboarding kick-off",
        "new_account",
        {"days": 30},
        [],
        "onboarding-kickoff",
        CtaType.ONBOARDING,
        CtaPriority.HIGH,
        CSM,
        3,
        365,
        False,
    ),
    (
        "usage-drop",
        "Usage dropped 50%",
        "usage_drop",
        {"percent": 50, "days": 30, "min_events": 500},
        [{"field": "tier", "op": "in", "value": ["enterprise", "mid_market"]}],
        "usage-drop",
        CtaType.RISK,
        CtaPriority.HIGH,
        CSM,
        5,
        60,
        False,
    ),
    (
        "usage-drop-smb",
        "Usage dropped 60% (low touch)",
        "usage_drop",
        {"percent": 60, "days": 30, "min_events": 150},
        [{"field": "tier", "op": "eq", "value": "smb"}],
        "usage-drop",
        CtaType.RISK,
        CtaPriority.MEDIUM,
        CSM,
        7,
        60,
        True,
    ),
    (
        "churn-risk-high",
        "Churn risk above 60%",
        "churn_risk_above",
        {"percent": 60},
        [{"field": "arr", "op": "gte", "value": 10000}],
        "churn-risk-save",
        CtaType.RISK,
        CtaPriority.HIGH,
        CSM,
        5,
        60,
        False,
    ),
    (
        "churn-risk-rising",
        "Churn risk up 20 points in 30 days",
        "churn_risk_rise",
        {"points": 20, "days": 30},
        [],
        "churn-risk-save",
        CtaType.RISK,
        CtaPriority.MEDIUM,
        CSM,
        7,
        60,
        False,
    ),
    (
        "nps-detractor",
        "NPS detractor",
        "nps_detractor",
        {"days": 30, "max_score": 6},
        [],
        "detractor-recovery",
        CtaType.RISK,
        CtaPriority.HIGH,
        CSM,
        3,
        60,
        False,
    ),
    (
        "renewal-120",
        "Renewal in 120 days",
        "renewal_within",
        {"days": 120, "min_days": 91},
        [{"field": "tier", "op": "in", "value": ["enterprise", "mid_market"]}],
        "renewal-120",
        CtaType.RENEWAL,
        CtaPriority.MEDIUM,
        AM,
        14,
        200,
        False,
    ),
    (
        "renewal-90",
        "Renewal in 90 days",
        "renewal_within",
        {"days": 90, "min_days": 31},
        [{"field": "arr", "op": "gte", "value": 10000}],
        "renewal-90",
        CtaType.RENEWAL,
        CtaPriority.MEDIUM,
        AM,
        10,
        200,
        False,
    ),
    (
        "renewal-30",
        "Renewal in 30 days",
        "renewal_within",
        {"days": 30, "min_days": 0},
        [{"field": "arr", "op": "gte", "value": 10000}],
        "renewal-30",
        CtaType.RENEWAL,
        CtaPriority.HIGH,
        AM,
        7,
        200,
        False,
    ),
    (
        "champion-left",
        "Champion or sponsor left",
        "stakeholder_left",
        {"days": 45},
        [],
        "champion-left",
        CtaType.RISK,
        CtaPriority.CRITICAL,
        CSM,
        3,
        90,
        False,
    ),
    (
        "expansion",
        "Seats nearly all used",
        "seat_utilisation",
        {"threshold": 0.75, "days": 30},
        [],
        "expansion-signal",
        CtaType.EXPANSION,
        CtaPriority.MEDIUM,
        AM,
        14,
        120,
        False,
    ),
    (
        "health-drop",
        "Health fell 15 points in 30 days",
        "health_drop",
        {"points": 15, "days": 30},
        [],
        "usage-drop",
        CtaType.RISK,
        CtaPriority.HIGH,
        CSM,
        5,
        60,
        False,
    ),
    (
        "milestone-overdue",
        "Onboarding milestone overdue",
        "milestone_overdue",
        {"grace_days": 7},
        [],
        "onboarding-kickoff",
        CtaType.ONBOARDING,
        CtaPriority.MEDIUM,
        CSM,
        5,
        30,
        False,
    ),
    (
        "urgent-ticket",
        "Urgent ticket open",
        "ticket_volume",
        {"count": 1, "days": 14, "priority": "urgent", "open_only": True},
        [],
        "usage-drop",
        CtaType.RISK,
        CtaPriority.HIGH,
        CSM,
        2,
        30,
        False,
    ),
    (
        "ebr-due",
        "Enterprise: time for an executive business review",
        "no_interaction",
        {"days": 75},
        [{"field": "tier", "op": "eq", "value": "enterprise"}],
        "ebr",
        CtaType.LIFECYCLE,
        CtaPriority.MEDIUM,
        CSM,
        21,
        120,
        False,
    ),
]


@write_service
def install_shipped(*, acting_user: User | None) -> dict[str, int]:
    """Create or update the shipped templates, playbooks, pool and rules (matched by key)."""
    from tandem.users.models import User

    templates = {}
    for key, (name, subject, body) in TEMPLATES.items():
        templates[key], _c = EmailTemplate.objects.update_or_create(
            key=key, defaults={"name": name, "subject": subject, "body": body}
        )
    playbooks = {}
    for key, (name, cta_type, description, steps) in PLAYBOOKS.items():
        playbook, _c = Playbook.objects.update_or_create(
            key=key, defaults={"name": name, "cta_type": cta_type, "description": description}
        )
        playbook.steps.all().delete()
        steps_created = PlaybookStep.objects.bulk_create(
            PlaybookStep(
                playbook=playbook,
                position=i,
                kind=kind,
                title=title,
                role=role,
                due_offset_days=offset,
                email_template=templates.get(tpl) if tpl else None,
                auto_send=auto,
                condition=cond or {},
                skip_if_false=skip,
            )
            for i, (kind, title, role, offset, tpl, auto, cond, skip) in enumerate(steps)
        )
        audit_rows_written(model=PlaybookStep, created=steps_created)
        playbooks[key] = playbook
    pool, _c = WorkPool.objects.get_or_create(name=POOL, defaults={"strategy": PoolStrategy.LEAST_LOADED})
    pool.members.add(*User.objects.filter(username__in=POOL_MEMBERS))
    for key, name, trigger, params, conds, pb, cta_type, priority, role, due, quiet, pooled in RULES:
        Rule.objects.update_or_create(
            key=key,
            defaults={
                "name": name,
                "trigger": trigger,
                "params": params,
                "conditions": conds,
                "playbook": playbooks[pb],
                "cta_type": cta_type,
                "priority": priority,
                "owner_role": role,
                "due_in_days": due,
                "reopen_after_days": quiet,
                "pool": pool if pooled else None,
                "is_active": True,
            },
        )
    return {"templates": len(templates), "playbooks": len(playbooks), "rules": len(RULES)}
