"""Account pages: the list and the customer 360. Views parse the request and call selectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import EmptyPage
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from tandem.access.masking import sees_contract_values
from tandem.access.scoping import Action, can, can_model, restrict
from tandem.accounts.models import Account
from tandem.accounts.selectors import account_360, account_filterset, contact_search
from tandem.accounts.tables import AccountTable
from tandem.core.export import csv_response, filter_errors_response
from tandem.core.filters import PageForm, filter_values
from tandem.core.http import AuthenticatedHttpRequest, HtmxHttpRequest
from tandem.segments.selectors import account_segments
from tandem.subscriptions.models import Subscription
from tandem.support.selectors import account_tickets
from tandem.timeline.views import timeline_context
from tandem.traits.selectors import trait_definitions, traits_shown
from tandem.usage.selectors import usage_weekly
from tandem.web.charts import usage_charts

PER_PAGE = 50
USAGE_WEEKS = 26


def _is_partial(request: HtmxHttpRequest) -> bool:
    # htmx asks for the full page when restoring history after a cache miss.
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@vary_on_headers("HX-Request")
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = account_filterset(filters=request.GET, user=request.user)
    # Without the right to see contract values the ARR column goes: its sort order would reveal them.
    hidden = () if sees_contract_values(request.user) else ("arr",)
    table = AccountTable(filterset.qs, exclude=hidden)
    RequestConfig(request, paginate=False).configure(table)  # the ordering; the page is ours to bound
    page_form = PageForm(request.GET)
    # LazyPaginator fetches one row more than a page instead of COUNT(*)-ing every match. The page
    # size is fixed: a client-chosen ?per_page= could ask for every row at once.
    try:
        table.paginate(paginator_class=LazyPaginator, per_page=PER_PAGE, page=filter_values(page_form).get("page") or 1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    partial = _is_partial(request)
    total = filterset.qs.count()
    context = {"filter": filterset, "table": table, "partial": partial, "page_form": page_form, "total": total}
    return render(request, "accounts/_results.html" if partial else "accounts/list.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_export(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The accounts list as CSV: the same filters, sort, scope and hidden columns as the page, every page."""
    filterset = account_filterset(filters=request.GET, user=request.user)
    refused = filter_errors_response(filterset.form)
    if refused is not None:
        return refused
    values = sees_contract_values(request.user)
    account_traits = list(trait_definitions(entity="account").values())  # custom fields: a column each
    table = AccountTable(filterset.qs, exclude=() if values else ("arr",))
    RequestConfig(request, paginate=False).configure(table)
    header = [
        _("ID"),
        _("Name"),
        _("Domain"),
        _("External id"),
        _("CRM id"),
        _("Tier"),
        _("Stage"),
        _("Country"),
        _("Industry"),
        _("CSM"),
        _("Account manager"),
        *([_("ARR"), _("Currency")] if values else []),
        _("Renewal"),
        _("Health"),
        _("Health band"),
        _("Churn risk (%)"),
        _("Archived"),
        *[t.label for t in account_traits],
    ]

    def rows() -> Iterator[list[Any]]:
        for a in table.data.data.iterator(chunk_size=2000):
            health = getattr(a, "health", None)
            risk = getattr(a, "risk", None)
            yield [
                a.pk,
                a.name,
                a.domain,
                a.external_id,
                a.crm_id,
                a.get_tier_display(),
                a.get_lifecycle_stage_display(),
                a.country.name if a.country else "",
                a.industry,
                a.csm_owner.get_full_name() or a.csm_owner.username if a.csm_owner else "",
                a.am_owner.get_full_name() or a.am_owner.username if a.am_owner else "",
                *([a.arr, a.currency] if values else []),
                a.renewal_date,
                round(health.score) if health is not None else None,
                health.get_band_display() if health is not None else "",
                round(risk.probability * 100, 1) if risk is not None else None,
                a.archived_at,
                *[(a.traits or {}).get(t.key) for t in account_traits],
            ]

    # Translators: the first word of a downloaded file's name (accounts-2026-12-06.csv).
    return csv_response(name=_("accounts"), header=header, rows=rows())


@login_required
@permission_required("accounts.view_contact", raise_exception=True)
def contact_export(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The contacts list as CSV: the same search and scope as the page, every page."""
    from tandem.accounts.forms import ContactSearchForm

    form = ContactSearchForm(request.GET)
    refused = filter_errors_response(form)
    if refused is not None:
        return refused
    values = form.cleaned_data
    contacts = contact_search(user=request.user, text=values.get("q") or "", include_left=bool(values.get("left")))
    contact_traits = list(trait_definitions(entity="contact").values())
    header = [
        _("ID"),
        _("First name"),
        _("Last name"),
        _("Email"),
        _("Phone"),
        _("Job title"),
        _("Account"),
        _("Account ID"),
        _("Primary contact"),
        _("Stakeholder roles"),
        _("Still at the company"),
        _("Left on"),
        _("External id"),
        _("Language"),
        *[t.label for t in contact_traits],
    ]

    def rows() -> Iterator[list[Any]]:
        for c in contacts.iterator(chunk_size=2000):
            yield [
                c.pk,
                c.first_name,
                c.last_name,
                c.email,
                c.phone,
                c.title,
                c.account.name,
                c.account_id,
                c.is_primary,
                ", ".join(str(r.get_role_display()) for r in c.roles.all()),
                c.still_at_company,
                c.left_on,
                c.external_id,
                c.language,
                *[(c.traits or {}).get(t.key) for t in contact_traits],
            ]

    # Translators: the first word of a downloaded file's name (contacts-2026-12-06.csv).
    return csv_response(name=_("contacts"), header=header, rows=rows())


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_detail(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    today = timezone.localdate()
    try:
        view = account_360(account_id=account_id, today=today, user=request.user)
    except Account.DoesNotExist:
        raise Http404 from None
    can_change = can(request.user, Action.CHANGE, view.account)
    context = {
        "view": view,
        "account": view.account,
        "can_change": can_change,
        # Contracts and opportunities are commercial records: changing them needs that right too.
        "can_commercial": can_change and can_model(request.user, Action.CHANGE, Subscription),
        **timeline_context(request, account=view.account, account_contacts=view.contacts, can_change=can_change),
        "tickets": account_tickets(user=request.user, account_id=account_id, limit=20),
        "custom_fields": [t for t in traits_shown(entity="account", values=view.account.traits) if t.value is not None],
        "segments": account_segments(account_id=account_id),
    }
    return render(request, "accounts/detail.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@vary_on_headers("HX-Request")
def account_usage_chart(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The usage charts, fetched by the account page after it has loaded."""
    account = (
        restrict(Account.objects.only("id", "name", "csm_owner_id", "am_owner_id"), user=request.user)
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise Http404
    usage = usage_weekly(account_id=account_id, weeks=USAGE_WEEKS, today=timezone.localdate())
    context = {
        "account": account,
        "usage": usage,
        "charts": [] if usage.is_empty else usage_charts(usage),
        "weeks": USAGE_WEEKS,
    }
    template = "accounts/_usage.html" if _is_partial(request) else "accounts/usage.html"
    return render(request, template, context)
