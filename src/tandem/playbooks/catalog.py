"""The playbook library Tandem ships with: email templates, playbooks, a work pool and rules.

Every text is marked for translation (``gettext_noop``) and installed in the language asked for
(:func:`tandem.playbooks.services.library.library_install`); the data here stays in English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from tandem.playbooks.models import CtaPriority, CtaType, StepKind, StepRole

if TYPE_CHECKING:
    from tandem.users.models import User

T, E, N, W, B = StepKind.TASK, StepKind.EMAIL, StepKind.NOTIFY, StepKind.WAIT, StepKind.BRANCH
CSM, AM, MGR, OWNER = StepRole.CSM, StepRole.AM, StepRole.CS_MANAGER, StepRole.ACCOUNT_OWNER

TEMPLATES: dict[str, tuple[str, str, str]] = {
    "welcome": (
        gettext_noop("Welcome and kick-off"),
        gettext_noop("Welcome to the team, {{ account.name }}!"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nwelcome aboard! I am {{ csm.name }}, your customer success "
            "manager. I would love to set up a 45-minute kick-off call this week to agree on your "
            "goals and a go-live plan.\n\nBest,\n{{ csm.name }}\n{{ csm.email }}"
        ),
    ),
    "usage-check-in": (
        gettext_noop("Usage check-in"),
        gettext_noop("Checking in on {{ account.name }}"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nI noticed your team has been using the product less in the "
            "last few weeks. Is anything getting in the way? I am happy to run a short session for "
            "your team.\n\nBest,\n{{ sender.name }}"
        ),
    ),
    "detractor-follow-up": (
        gettext_noop("Detractor follow-up"),
        gettext_noop("Thank you for your feedback"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nthank you for answering our survey. I read your comments "
            "and would like to understand what we can do better. Could we talk for 20 minutes this "
            "week?\n\n{{ sender.name }}"
        ),
    ),
    "renewal-notice": (
        gettext_noop("Renewal notice"),
        gettext_noop("Your renewal on {{ account.renewal_date }}"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nyour subscription renews on {{ account.renewal_date }}. I "
            "will reach out to review your plan and make sure it still fits.\n\nBest,\n{{ am.name }}"
        ),
    ),
    "ebr-invite": (
        gettext_noop("Executive business review invitation"),
        gettext_noop("Executive business review for {{ account.name }}"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nit is time for our executive business review: results so "
            "far, your priorities for the next quarter and our roadmap. Which dates work for you?\n\n{{ "
            "sender.name }}"
        ),
    ),
}

# key: (name, type, description, [(kind, title, role, due offset, template key, auto send, branch condition, skip)])
PLAYBOOKS: dict[str, tuple[str, str, str, list[tuple]]] = {
    "onboarding-kickoff": (
        gettext_noop("Onboarding kick-off"),
        CtaType.ONBOARDING,
        gettext_noop("Welcome, kick-off call and go-live plan."),
        [
            (E, gettext_noop("Send the welcome email"), CSM, 0, "welcome", True, None, 0),
            (T, gettext_noop("Hold the kick-off call"), CSM, 5, None, False, None, 0),
            (T, gettext_noop("Agree success milestones in the success plan"), CSM, 7, None, False, None, 0),
            (W, gettext_noop("Wait two weeks"), OWNER, 14, None, False, None, 0),
            (T, gettext_noop("Check first-month adoption"), CSM, 21, None, False, None, 0),
        ],
    ),
    "usage-drop": (
        gettext_noop("Usage drop"),
        CtaType.RISK,
        gettext_noop("Find out why usage fell and agree a get-well plan."),
        [
            (T, gettext_noop("Review usage by feature and user"), OWNER, 1, None, False, None, 0),
            (E, gettext_noop("Send a usage check-in"), OWNER, 2, "usage-check-in", False, None, 0),
            (
                B,
                gettext_noop("Enterprise account?"),
                OWNER,
                0,
                None,
                False,
                {"field": "tier", "op": "eq", "value": "enterprise"},
                1,
            ),
            (N, gettext_noop("Usage drop on an enterprise account"), MGR, 0, None, False, None, 0),
            (T, gettext_noop("Call the champion and agree a get-well plan"), OWNER, 7, None, False, None, 0),
        ],
    ),
    "churn-risk-save": (
        gettext_noop("Churn risk save"),
        CtaType.RISK,
        gettext_noop("The churn model flags the account: confirm the drivers, tell the manager, agree a save plan."),
        [
            (T, gettext_noop("Review the churn-risk drivers on the account page"), OWNER, 1, None, False, None, 0),
            (N, gettext_noop("Churn risk flagged: review the save plan with the CSM"), MGR, 0, None, False, None, 0),
            (T, gettext_noop("Call the champion about value and blockers"), OWNER, 3, None, False, None, 0),
            (T, gettext_noop("Agree a save plan and log it on the timeline"), OWNER, 10, None, False, None, 0),
        ],
    ),
    "detractor-recovery": (
        gettext_noop("Detractor recovery"),
        CtaType.RISK,
        gettext_noop("Close the loop with an NPS detractor."),
        [
            (E, gettext_noop("Thank them and ask for a call"), OWNER, 1, "detractor-follow-up", False, None, 0),
            (T, gettext_noop("Call the detractor within 3 days"), OWNER, 3, None, False, None, 0),
            (N, gettext_noop("Detractor: account manager informed"), AM, 0, None, False, None, 0),
            (T, gettext_noop("Log the root cause and the fix agreed"), OWNER, 10, None, False, None, 0),
        ],
    ),
    "renewal-120": (
        gettext_noop("Renewal at 120 days"),
        CtaType.RENEWAL,
        gettext_noop("Start the renewal: health and stakeholders."),
        [
            (T, gettext_noop("Review health, usage and open risks with the CSM"), AM, 7, None, False, None, 0),
            (T, gettext_noop("Confirm the decision maker and the buying process"), AM, 14, None, False, None, 0),
        ],
    ),
    "renewal-90": (
        gettext_noop("Renewal at 90 days"),
        CtaType.RENEWAL,
        gettext_noop("Renewal proposal."),
        [
            (E, gettext_noop("Send the renewal notice"), AM, 2, "renewal-notice", False, None, 0),
            (T, gettext_noop("Send the renewal proposal"), AM, 10, None, False, None, 0),
        ],
    ),
    "renewal-30": (
        gettext_noop("Renewal at 30 days"),
        CtaType.RENEWAL,
        gettext_noop("Close the renewal."),
        [
            (N, gettext_noop("Renewal in 30 days"), MGR, 0, None, False, None, 0),
            (T, gettext_noop("Get the order form signed"), AM, 14, None, False, None, 0),
        ],
    ),
    "champion-left": (
        gettext_noop("Champion left"),
        CtaType.RISK,
        gettext_noop("Replace a lost champion or executive sponsor."),
        [
            (T, gettext_noop("Find out who takes over and introduce yourself"), CSM, 3, None, False, None, 0),
            (N, gettext_noop("Champion or sponsor left"), AM, 0, None, False, None, 0),
            (T, gettext_noop("Re-run onboarding for the new champion"), CSM, 14, None, False, None, 0),
        ],
    ),
    "expansion-signal": (
        gettext_noop("Expansion signal"),
        CtaType.EXPANSION,
        gettext_noop("Seats are nearly all used: talk expansion."),
        [
            (T, gettext_noop("Check seat usage and growth plans with the CSM"), AM, 3, None, False, None, 0),
            (T, gettext_noop("Propose additional seats or an upgrade"), AM, 10, None, False, None, 0),
        ],
    ),
    "ebr": (
        gettext_noop("Executive business review"),
        CtaType.LIFECYCLE,
        gettext_noop("Prepare and hold an executive business review."),
        [
            (E, gettext_noop("Invite the executive sponsor"), CSM, 3, "ebr-invite", False, None, 0),
            (T, gettext_noop("Prepare the EBR deck: outcomes, usage, roadmap"), CSM, 10, None, False, None, 0),
            (T, gettext_noop("Hold the EBR and log it on the timeline"), CSM, 21, None, False, None, 0),
        ],
    ),
}

POOL = gettext_noop("Digital success pool")
POOL_MEMBERS = ["grace", "hiro"]  # the demo's low-touch CSMs; on a real company: its active CSMs

# key: (name, trigger, params, conditions, playbook, type, priority, owner role, due days, quiet days, pooled)
RULES: list[tuple[str, str, str, dict[str, Any], list[dict[str, Any]], str, str, int, str, int, int, bool]] = [
    (
        "new-account",
        gettext_noop("New customer: onboarding kick-off"),
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
        gettext_noop("Usage dropped 50%"),
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
        gettext_noop("Usage dropped 60% (low touch)"),
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
        gettext_noop("Churn risk above 60%"),
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
        gettext_noop("Churn risk up 20 points in 30 days"),
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
        gettext_noop("NPS detractor"),
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
        gettext_noop("Renewal in 120 days"),
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
        gettext_noop("Renewal in 90 days"),
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
        gettext_noop("Renewal in 30 days"),
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
        gettext_noop("Champion or sponsor left"),
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
        gettext_noop("Seats nearly all used"),
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
        gettext_noop("Health fell 15 points in 30 days"),
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
        gettext_noop("Onboarding milestone overdue"),
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
        gettext_noop("Urgent ticket open"),
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
        gettext_noop("Enterprise: time for an executive business review"),
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


def install_shipped(*, acting_user: User | None) -> dict[str, int]:
    """The demo's step: install the library in the configured language (see ``library_install``)."""
    from tandem.playbooks.services.library import library_install

    report = library_install(acting_user=acting_user, with_metrics=False)
    return {"templates": len(TEMPLATES), "playbooks": len(PLAYBOOKS), "rules": len(RULES), **report.created}
