"""Settings → Renewals: renewal lead times per tier and the churn reasons (managers change, everyone reads)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tandem.access.scoping import Action, can_model
from tandem.accounts.models import Tier
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.opportunities.models import ChurnReason, RenewalPolicy
from tandem.opportunities.services import churn_reason_save, renewal_lead_days, renewal_lead_days_save


@login_required
def renewal_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One form: lead days per tier, each churn reason's name and whether it is offered, and a new one."""
    errors: list[str] = []
    if request.method == "POST":
        if not can_model(request.user, Action.CHANGE, RenewalPolicy):
            raise PermissionDenied
        try:
            with transaction.atomic():  # nothing half-saved
                lead = {}
                for tier in Tier.values:
                    raw = str(request.POST.get(f"lead_{tier}", "")).strip()
                    if not raw.isdigit():
                        raise DomainError(_("Invalid renewal lead times."), [])
                    lead[tier] = int(raw)
                renewal_lead_days_save(acting_user=request.user, lead_days=lead)
                for reason in ChurnReason.objects.all():
                    name = str(request.POST.get(f"reason_{reason.pk}", reason.name))
                    active = request.POST.get(f"active_{reason.pk}") == "on"
                    if (name, active) != (reason.name, reason.is_active):
                        churn_reason_save(acting_user=request.user, reason=reason, name=name, is_active=active)
                new = str(request.POST.get("new_reason", "")).strip()
                if new:
                    churn_reason_save(acting_user=request.user, name=new)
        except DomainError as exc:
            errors = [e.message for e in exc.errors] or [exc.message]
        else:
            messages.success(request, _("Renewal settings saved."))
            return redirect("opportunities:settings")
    lead = renewal_lead_days()
    context = {
        "tiers": [(value, label, lead.get(value, 0)) for value, label in Tier.choices],
        "reasons": ChurnReason.objects.order_by("name"),
        "errors": errors,
    }
    return render(request, "opportunities/settings.html", context, status=400 if errors else 200)
