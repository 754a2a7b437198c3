"""The support ticket page: what the customer reported, linked from the account and contact pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render

from tandem.access.shortcuts import get_visible_or_404
from tandem.core.http import AuthenticatedHttpRequest
from tandem.support.models import Ticket


@login_required
@permission_required("support.view_ticket", raise_exception=True)
def ticket_detail(request: AuthenticatedHttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_visible_or_404(Ticket.objects.select_related("account", "contact"), user=request.user, pk=ticket_id)
    return render(request, "support/ticket_detail.html", {"ticket": ticket, "account": ticket.account})
