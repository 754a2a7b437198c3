"""A task or call to action opened by hand from the account page (no rule, no playbook)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tandem.access.shortcuts import ensure_created_in_scope, get_for_write
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks.models import CtaPriority, CtaType
from tandem.playbooks.services import cta_create
from tandem.users.models import User

DEFAULT_DUE_DAYS = 7


class ManualCtaForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("What needs doing"), max_length=300)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=CtaType.choices, initial=CtaType.LIFECYCLE)
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"), choices=CtaPriority.choices, coerce=int, initial=CtaPriority.MEDIUM
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    due_date = forms.DateField(label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=gettext_lazy("Why / details"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


@login_required
@permission_required("accounts.change_account", raise_exception=True)
def cta_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    today = timezone.localdate()
    if request.method == "POST":
        form = ManualCtaForm(request.POST)
        if form.is_valid():
            data: dict[str, Any] = dict(form.cleaned_data)
            try:
                with transaction.atomic():
                    cta = cta_create(acting_user=request.user, account=account, today=today, **data)
                    ensure_created_in_scope(request.user, cta)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Call to action opened."))
                return redirect("playbooks:cta", cta_id=cta.pk)
        return render(request, "playbooks/cta_new.html", {"form": form, "account": account}, status=400)
    form = ManualCtaForm(initial={"owner": request.user.pk, "due_date": today + dt.timedelta(days=DEFAULT_DUE_DAYS)})
    return render(request, "playbooks/cta_new.html", {"form": form, "account": account})
