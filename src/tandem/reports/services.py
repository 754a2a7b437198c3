"""Account status reports and QBR packs: one account or a whole book of business, as HTML or PDF.

The PDF is the same HTML printed by WeasyPrint (charts are inline SVG, which it draws natively).
Sections without data yet (no health score, no NPS answer, no milestone) show "—".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.access.masking import mask_rows, sees_contract_values
from tandem.access.scoping import restrict
from tandem.core.errors import DomainError, FieldError, NotFound
from tandem.web.charts import Chart, chart_css

if TYPE_CHECKING:
    from tandem.users.models import User

MAX_BOOK_ACCOUNTS = 300
USAGE_WEEKS = 26


@dataclass
class AccountReport:
    """Everything one account's section of a report shows."""

    view: Any  # accounts.selectors.Account360
    charts: list[Any]
    tickets: list[Any]
    opportunities: list[Any]
    health: Any = None
    health_chart: Chart | None = None
    risk: Any = None
    nps: list[Any] = field(default_factory=list)
    milestones: list[Any] = field(default_factory=list)
    clv: Any = None


def account_report(*, account_id: int, today: dt.date, reader: User | None, clv: Any = None) -> AccountReport:
    """One account's section of a report, as ``reader`` may see it (None: the operator at the command line)."""
    from tandem.accounts.models import Account
    from tandem.accounts.selectors import account_360
    from tandem.health.charts import health_history_chart
    from tandem.health.selectors import account_health_trend
    from tandem.opportunities.selectors import account_health_and_risk, account_opportunities
    from tandem.success.selectors import account_milestones
    from tandem.support.selectors import account_tickets
    from tandem.surveys.selectors import nps_response_list
    from tandem.usage.selectors import usage_weekly
    from tandem.web.charts import usage_charts

    try:
        view = account_360(account_id=account_id, today=today, user=reader or _operator())
    except Account.DoesNotExist:
        raise NotFound(_("No account with id %(id)s.") % {"id": account_id}) from None
    try:
        usage = usage_weekly(account_id=account_id, weeks=USAGE_WEEKS, today=today)
        charts = [] if usage.is_empty else usage_charts(usage)
    except Exception:
        charts = []
    health, risk = account_health_and_risk(account_ids=[account_id])
    trend = account_health_trend(account_id=account_id)
    health_chart = health_history_chart(trend) if len(trend) > 1 else None
    return AccountReport(
        view=view,
        charts=charts,
        tickets=account_tickets(user=reader or _operator(), account_id=account_id, limit=15),
        opportunities=mask_rows(
            account_opportunities(user=reader or _operator(), account_id=account_id), user=reader or _operator()
        ),
        health=health.get(account_id),
        health_chart=health_chart,
        risk=risk.get(account_id),
        nps=list(nps_response_list(user=reader or _operator(), account_id=account_id)[:10]),
        milestones=list(account_milestones(account_id=account_id)[:15]),
        clv=clv if sees_contract_values(reader or _operator()) else None,
    )


def _operator() -> User:
    """Whoever runs a report from the command line already holds the database: they read as an admin."""
    from tandem.users.models import User

    return User(pk=None, is_superuser=True, is_active=True)


def report_html(
    *, account_ids: list[int], title: str, reader: User | None, today: dt.date | None = None, for_pdf: bool = False
) -> str:
    """The report for these accounts as one standalone HTML document."""
    today = today or timezone.localdate()
    from tandem.revenue.selectors import stored_accounts_clv

    # The tiers' sBG fits come from the daily pipeline (tandem.revenue.services): no fit per report.
    clv = stored_accounts_clv(account_ids=account_ids, today=today)
    sections = [account_report(account_id=i, today=today, reader=reader, clv=clv.get(i)) for i in account_ids]
    return render_to_string(
        "reports/report.html",
        {"sections": sections, "title": title, "today": today, "for_pdf": for_pdf, "chart_css": chart_css()},
    )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def report_title(*, account_id: int, reader: User | None) -> str:
    """The title of one account's report, or NotFound when ``reader`` may not see the account."""
    from tandem.accounts.models import Account

    account = restrict(Account.objects.only("id", "name"), user=reader or _operator()).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No account with id %(id)s.") % {"id": account_id})
    return _("Account report: %(name)s") % {"name": account.name}


def report_render(
    *, account_id: int | None = None, book_username: str | None = None, fmt: str = "pdf", reader: User | None
) -> tuple[bytes, str]:
    """Render one account's report or a user's book of business as ``reader`` may see it; (content, file name).

    ``reader=None`` is the operator at the command line.
    """
    from tandem.accounts.models import Account
    from tandem.users.models import User

    if account_id is not None:
        account = restrict(Account.objects.only("id", "name"), user=reader or _operator()).filter(pk=account_id).first()
        if account is None:
            raise NotFound(_("No account with id %(id)s.") % {"id": account_id})
        ids, stem = [account.pk], f"account-{account.pk}"
        title = _("Account report: %(name)s") % {"name": account.name}
    else:
        user = User.objects.filter(username=book_username).first()
        if user is None:
            message = _("No user named %(u)s.") % {"u": book_username}
            raise DomainError(_("Unknown user."), [FieldError("book", message)])
        ids = list(
            # The user's current book: live accounts (an archived one is no longer theirs to work).
            restrict(Account.objects.live().filter(Q(csm_owner=user) | Q(am_owner=user)), user=reader or _operator())
            .order_by("-arr", "name")
            .values_list("pk", flat=True)[:MAX_BOOK_ACCOUNTS]
        )
        if not ids:
            raise DomainError(_("Empty book."), [FieldError("book", _("%(u)s owns no accounts.") % {"u": user})])
        title = _("Book of business: %(name)s") % {"name": user.get_full_name() or user.username}
        stem = f"book-{user.username}"
    html = report_html(account_ids=ids, title=title, reader=reader, for_pdf=fmt == "pdf")
    if fmt == "html":
        return html.encode(), f"{stem}.html"
    return html_to_pdf(html), f"{stem}.pdf"
