"""Subjects and summaries of demo tickets and interactions.

These are stored customer data (what a CSM would have typed), not interface text, so they are not
marked for translation. Templates take ``{contact}``, ``{company}``, ``{feature}`` and ``{csm}``.
"""

from __future__ import annotations

# (subject, weight) by ticket priority; urgent and high subjects read like outages and blockers.
TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "urgent": (
        "Production outage: dashboards not loading",
        "All users locked out after SSO certificate change",
        "Data sync stopped, records missing since this morning",
        "API returning 500 errors for every request",
        "Critical: scheduled reports sent to the wrong recipients",
    ),
    "high": (
        "Integration sync failing for Salesforce",
        "Export to CSV times out on large reports",
        "Workflow approvals stuck in pending",
        "Users cannot accept invitations",
        "Webhook deliveries delayed by several hours",
        "Report totals do not match source data",
    ),
    "normal": (
        "How do I set up workflow approvals?",
        "Question about user roles and permissions",
        "Dashboard widget shows the wrong date range",
        "Request to change the account owner",
        "How to connect the HubSpot integration",
        "Custom field not appearing in reports",
        "Need help configuring SSO",
        "API rate limit questions",
    ),
    "low": (
        "Question about invoice",
        "Feature request: dark mode",
        "Update billing contact",
        "Typo in email notification template",
        "Feature request: more export formats",
        "Where can I find the release notes?",
    ),
}

ONBOARDING_SESSIONS: tuple[tuple[str, str], ...] = (
    ("Kickoff call", "Kickoff with {contact}: agreed goals, success criteria and a 60-day plan."),
    ("Admin setup and SSO", "Walked {contact} through SSO, user roles and workspace settings."),
    ("Data import walkthrough", "Imported the first data set together; {contact} owns the rest."),
    ("Integration configuration", "Connected their CRM; first sync ran without errors."),
    ("Team training", "Trained the first group of users on dashboards and {feature}."),
    ("Onboarding wrap-up", "Reviewed adoption against the plan and handed over to steady state."),
)

TOUCH_HEALTHY: dict[str, tuple[tuple[str, str], ...]] = {
    "call": (
        ("Check-in call", "Quick check-in with {contact}; usage is growing, no open issues."),
        ("Roadmap preview", "Previewed upcoming {feature} improvements; {contact} keen to pilot."),
        ("Expansion discussion", "{contact} wants to roll out to another team next quarter."),
    ),
    "email": (
        ("Monthly usage summary", "Sent the monthly usage summary; {feature} adoption up again."),
        ("Best practices for {feature}", "Shared a guide on {feature} after {contact} asked."),
        ("Webinar invitation", "Invited {contact} and team to the product webinar."),
    ),
    "meeting": (
        ("Success plan review", "Reviewed the success plan with {contact}; goals on track."),
        ("Workshop: advanced reporting", "Ran a reporting workshop for the {company} team."),
    ),
}

TOUCH_AT_RISK: dict[str, tuple[tuple[str, str], ...]] = {
    "call": (
        ("Escalation call", "{contact} frustrated with recent tickets; agreed a fix plan."),
        ("Adoption concerns", "Usage is dropping; {contact} says the team went back to spreadsheets."),
        ("Budget review", "{contact} mentioned budget cuts and a review of all tools."),
    ),
    "email": (
        ("Following up on open tickets", "Summarised open tickets and next steps for {contact}."),
        ("Re-engagement: training offer", "Offered a free training session to re-engage users."),
        ("Checking in", "No reply to the last two emails; trying {contact} again."),
    ),
    "meeting": (
        ("Get-well plan", "Agreed a 30-day get-well plan with {contact} covering {feature}."),
        ("Executive escalation", "Met the sponsor about service issues; committed to weekly updates."),
    ),
}

QBR = (
    "Quarterly business review",
    "QBR with {contact}: reviewed adoption, ROI and goals for next quarter. {outlook}",
)
QBR_OUTLOOK_GOOD = "Strong engagement; discussed expanding to new teams."
QBR_OUTLOOK_BAD = "Concerns about value and adoption; follow-ups assigned."

NOTE_CHAMPION_LEFT = (
    "Champion left the company",
    "{contact} has left {company}. Need a new champion; reaching out to the team.",
)
NOTE_SPONSOR_LEFT = (
    "Executive sponsor left",
    "{contact} (executive sponsor) has left {company}. Requesting an intro to the successor.",
)
NOTE_RISK = ("Risk flagged", "Health looks poor: usage down and tickets up. Adding to the watch list.")

RENEWAL_NOTES: dict[str, tuple[str, str]] = {
    "expansion": ("Renewal closed: expansion", "Renewed with more seats ({seats_before} → {seats_after})."),
    "flat": ("Renewal closed", "Renewed on the same terms ({seats_after} seats)."),
    "contraction": (
        "Renewal closed: contraction",
        "Renewed with fewer seats ({seats_before} → {seats_after}); team downsized.",
    ),
    "churn": ("Customer churned", "Did not renew. Reason given: {reason}."),
}
CHURN_REASONS = (
    "low adoption",
    "budget cuts",
    "moved to a competitor",
    "champion left and nobody took over",
    "company acquired",
    "too many support issues",
)

TITLES: dict[str, tuple[str, ...]] = {
    "champion": (
        "Head of Operations",
        "Director of Revenue Operations",
        "Customer Operations Lead",
        "Product Operations Manager",
    ),
    "executive_sponsor": ("VP Operations", "Chief Operating Officer", "VP Customer Experience", "CTO"),
    "decision_maker": ("Director of IT", "Head of Procurement", "VP Sales", "General Manager"),
    "admin": ("Systems Administrator", "IT Administrator", "CRM Administrator"),
    "billing": ("Finance Manager", "Accounts Payable Specialist", "Controller"),
    "end_user": (
        "Account Executive",
        "Analyst",
        "Operations Specialist",
        "Project Manager",
        "Support Specialist",
        "Marketing Manager",
    ),
}
