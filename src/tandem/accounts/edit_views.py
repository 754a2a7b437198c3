"""The account and contact write pages: create, edit, archive, mark as left, and the account picker's search.

Each page parses a form and calls the service the API uses; a refused write shows the form again
with the errors on their fields (status 400) and writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can, ensure, ensure_model, restrict
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts import services
from tandem.accounts.forms import (
    PICKER_LIMIT,
    AccountForm,
    ContactForm,
    ContactLeftForm,
    ContactNewForm,
    ContactSearchForm,
    add_domain_errors,
    picker_label,
    picker_names_id,
    picker_search,
)
from tandem.accounts.models import Account, Contact
from tandem.accounts.selectors import contact_search
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.support.models import Ticket
from tandem.timeline.views import timeline_context
from tandem.traits.forms import traits_from_cleaned
from tandem.traits.selectors import traits_shown
from tandem.users.roles import Role, user_roles


def _parents(request: AuthenticatedHttpRequest) -> QuerySet[Account]:
    return restrict(Account.objects.all(), user=request.user)


def _account_data(form: AccountForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["start_date"] = data.get("start_date") or None
    data["traits"] = traits_from_cleaned(form.trait_definitions, data)
    return data


def _contact_data(form: ContactForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["traits"] = traits_from_cleaned(form.trait_definitions, data)
    return data


@login_required
@permission_required("accounts.add_account", raise_exception=True)
def account_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_model(request.user, Action.CHANGE, Account)
    if request.method == "POST":
        form = AccountForm(request.POST, parents=_parents(request))
        if form.is_valid():
            try:
                with transaction.atomic():
                    account = services.account_create(acting_user=request.user, **_account_data(form))
                    ensure_created_in_scope(request.user, account)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Account created."))
                return redirect("accounts:detail", account.pk)
        return render(request, "accounts/account_form.html", {"form": form, "account": None}, status=400)
    # The creator owns the new account by default: a CSM or an account manager may create only in their book.
    roles = user_roles(request.user)
    initial: dict[str, Any] = {}
    if Role.CSM in roles:
        initial["csm_owner"] = request.user.pk
    if Role.ACCOUNT_MANAGER in roles:
        initial["am_owner"] = request.user.pk
    form = AccountForm(initial=initial, parents=_parents(request))
    return render(request, "accounts/account_form.html", {"form": form, "account": None})


@login_required
@permission_required("accounts.change_account", raise_exception=True)
def account_edit(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account.objects.select_related("parent"), user=request.user, pk=account_id)
    if request.method == "POST":
        form = AccountForm(request.POST, parents=_parents(request), account=account)
        if form.is_valid():
            try:
                services.account_update(acting_user=request.user, account=account, data=_account_data(form))
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Account saved."))
                return redirect("accounts:detail", account.pk)
        account.refresh_from_db()
        return render(request, "accounts/account_form.html", {"form": form, "account": account}, status=400)
    form = AccountForm(initial=AccountForm.initial_for(account), parents=_parents(request), account=account)
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def account_archive(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    archive = request.POST.get("archived", "1") != "0"
    services.account_archive(acting_user=request.user, account=account, archived=archive)
    messages.success(request, _("Account archived.") if archive else _("Account restored."))
    return redirect("accounts:detail", account.pk)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The account picker's suggestions: ``<option>``s for a ``<datalist>``, at most PICKER_LIMIT."""
    field = request.GET.get("field", "account")
    text = request.GET.get(field) or request.GET.get("q") or ""
    accounts = list(
        picker_search(restrict(Account.objects.only("id", "name", "domain"), user=request.user), text)[:PICKER_LIMIT]
    )
    options = [(picker_label(a), a.domain) for a in accounts]
    return render(request, "accounts/_account_options.html", {"options": options})


# --- contacts ----------------------------------------------------------------------------------

CONTACTS_PER_PAGE = 50


@login_required
@permission_required("accounts.view_contact", raise_exception=True)
def contact_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everyone at the accounts one may see, searchable, with the total, one page at a time."""
    form = ContactSearchForm(request.GET)
    values = form.cleaned_data if form.is_valid() else {}
    contacts = contact_search(user=request.user, text=values.get("q") or "", include_left=bool(values.get("left")))
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/contact_list.html", {"form": form, "page": page})


@login_required
@permission_required("accounts.add_contact", raise_exception=True)
def contact_new_any(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add a contact from the contacts list, choosing the account with the picker."""
    ensure_model(request.user, Action.CHANGE, Contact)
    visible = restrict(Account.objects.all(), user=request.user)
    if request.method == "POST":
        form = ContactNewForm(request.POST, accounts=visible)
        valid = form.is_valid()
        if not valid and "account" in form.errors and picker_names_id(request.POST.get("account", "")):
            raise Http404  # an account this person cannot see, named by its id
        if valid:
            data = _contact_data(form)
            account = data.pop("account")
            try:
                with transaction.atomic():
                    ensure(request.user, Action.CHANGE, account)
                    contact = services.contact_create(acting_user=request.user, account=account, **data)
                    ensure_created_in_scope(request.user, contact)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Contact added."))
                return redirect("accounts:contact", contact.pk)
        return render(request, "accounts/contact_form.html", {"form": form, "account": None}, status=400)
    form = ContactNewForm(accounts=restrict(Account.objects.all(), user=request.user, action=Action.CHANGE))
    return render(request, "accounts/contact_form.html", {"form": form, "account": None})


@login_required
@permission_required("accounts.add_contact", raise_exception=True)
def contact_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    contact = services.contact_create(acting_user=request.user, account=account, **_contact_data(form))
                    ensure_created_in_scope(request.user, contact)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Contact added."))
                return redirect("accounts:contact", contact.pk)
        return render(request, "accounts/contact_form.html", {"form": form, "account": account}, status=400)
    return render(request, "accounts/contact_form.html", {"form": ContactForm(), "account": account})


@login_required
@permission_required("accounts.view_contact", raise_exception=True)
def contact_detail(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = get_visible_or_404(
        Contact.objects.select_related("account").prefetch_related("roles"), user=request.user, pk=contact_id
    )
    tickets = list(Ticket.objects.filter(contact=contact).order_by("-opened_at", "-id")[:20])
    context = {
        "contact": contact,
        "account": contact.account,
        "can_change": can(request.user, Action.CHANGE, contact),
        "left_form": ContactLeftForm(),
        **timeline_context(request, account=contact.account, contact=contact),
        "tickets": tickets,
        "custom_fields": [t for t in traits_shown(entity="contact", values=contact.traits) if t.value is not None],
    }
    return render(request, "accounts/contact_detail.html", context)


@login_required
@permission_required("accounts.change_contact", raise_exception=True)
def contact_edit(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = get_for_write(Contact.objects.select_related("account"), user=request.user, pk=contact_id)
    if request.method == "POST":
        form = ContactForm(request.POST, contact=contact)
        if form.is_valid():
            data = _contact_data(form)
            roles = data.pop("roles")
            try:
                with transaction.atomic():
                    services.contact_update(acting_user=request.user, contact=contact, data=data, roles=roles)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Contact saved."))
                return redirect("accounts:contact", contact.pk)
        contact.refresh_from_db()
        context = {"form": form, "account": contact.account, "contact": contact}
        return render(request, "accounts/contact_form.html", context, status=400)
    form = ContactForm(initial=ContactForm.initial_for(contact), contact=contact)
    return render(request, "accounts/contact_form.html", {"form": form, "account": contact.account, "contact": contact})


@login_required
@permission_required("accounts.change_contact", raise_exception=True)
@require_POST
def contact_left(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    contact = get_for_write(Contact, user=request.user, pk=contact_id)
    form = ContactLeftForm(request.POST)
    if form.is_valid():
        try:
            services.contact_mark_left(acting_user=request.user, contact=contact, left_on=form.cleaned_data["left_on"])
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Marked as having left the company."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("accounts:contact", contact.pk)
