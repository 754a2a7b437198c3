"""The contract editor on the account page: an account manager edits a term and its line items."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.access.scoping import Action, ensure_model
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.subscriptions.forms import BaseItemFormSet, ItemFormSet, TermsForm, add_contract_errors, item_initial
from tandem.subscriptions.models import Subscription
from tandem.subscriptions.services import subscription_create, subscription_update


def _items(data: QueryDict | None = None, initial: list[dict[str, Any]] | None = None) -> BaseItemFormSet:
    return cast(BaseItemFormSet, ItemFormSet(data, initial=initial, prefix="items"))


def _valid(terms: TermsForm, items: BaseItemFormSet) -> bool:
    return terms.is_valid() & items.is_valid()  # both, so that every error shows at once


@login_required
@permission_required("subscriptions.change_subscription", raise_exception=True)
def subscription_edit(request: AuthenticatedHttpRequest, subscription_id: int) -> HttpResponse:
    subscription = get_for_write(Subscription.objects.select_related("account"), user=request.user, pk=subscription_id)
    account = subscription.account
    if request.method == "POST":
        terms, items = TermsForm(request.POST), _items(request.POST)
        if _valid(terms, items):
            try:
                subscription_update(
                    acting_user=request.user, subscription=subscription, data=terms.cleaned_data, items=items.items()
                )
            except DomainError as exc:
                add_contract_errors(terms, items, exc)
            else:
                messages.success(request, _("Contract saved."))
                return redirect("accounts:detail", account.pk)
        context = {"terms": terms, "items": items, "account": account, "subscription": subscription}
        return render(request, "subscriptions/edit.html", context, status=400)
    terms = TermsForm(initial=TermsForm.initial_for(subscription))
    items = _items(initial=item_initial(subscription))
    return render(
        request,
        "subscriptions/edit.html",
        {"terms": terms, "items": items, "account": account, "subscription": subscription},
    )


@login_required
@permission_required("subscriptions.add_subscription", raise_exception=True)
def subscription_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    ensure_model(request.user, Action.CHANGE, Subscription)  # commercial records: not for every role
    if request.method == "POST":
        terms, items = TermsForm(request.POST), _items(request.POST)
        if _valid(terms, items):
            try:
                with transaction.atomic():
                    subscription = subscription_create(
                        acting_user=request.user, account=account, items=items.items(), **terms.cleaned_data
                    )
                    ensure_created_in_scope(request.user, subscription)
            except DomainError as exc:
                add_contract_errors(terms, items, exc)
            else:
                messages.success(request, _("Contract saved."))
                return redirect("accounts:detail", account.pk)
        return render(
            request, "subscriptions/edit.html", {"terms": terms, "items": items, "account": account}, status=400
        )
    today = timezone.localdate()
    initial = {"start_date": today, "end_date": today + dt.timedelta(days=364), "currency": account.currency}
    terms = TermsForm(initial=initial)
    return render(request, "subscriptions/edit.html", {"terms": terms, "items": _items(), "account": account})
