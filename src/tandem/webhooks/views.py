"""Settings → Webhooks: endpoints, their signing secret, a test event, and the delivery log with replay."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tandem.access.scoping import Action, ensure_model
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.webhooks import selectors, services
from tandem.webhooks.forms import EndpointForm
from tandem.webhooks.models import Delivery, DeliveryStatus, Endpoint


def _require_admin(request: AuthenticatedHttpRequest, action: Action = Action.VIEW) -> None:
    ensure_model(request.user, action, Endpoint)


@login_required
def endpoint_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "webhooks/list.html", {"endpoints": selectors.endpoint_list()})


def _form_errors(form: EndpointForm, exc: DomainError) -> None:
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_admin(request, Action.CHANGE)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Webhook endpoint “%(name)s” created.") % {"name": endpoint.name})
            return redirect("webhooks:detail", endpoint.pk)
    return render(request, "webhooks/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: AuthenticatedHttpRequest, endpoint_id: int) -> HttpResponse:
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    initial = {
        "name": endpoint.name,
        "kind": endpoint.kind,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST":
        _require_admin(request, Action.CHANGE)
        if form.is_valid():
            try:
                services.endpoint_update(acting_user=request.user, endpoint=endpoint, **form.cleaned_data)
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Webhook endpoint saved."))
                return redirect("webhooks:detail", endpoint.pk)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page = Paginator(selectors.endpoint_deliveries(endpoint=endpoint, status=status or None), 25).get_page(
        request.GET.get("page")
    )
    counts = selectors.delivery_counts(endpoint=endpoint)
    context = {
        "endpoint": endpoint,
        "form": form,
        "page": page,
        "status": status,
        "statuses": [(value, label, counts.get(value, 0)) for value, label in DeliveryStatus.choices],
    }
    return render(request, "webhooks/detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def endpoint_rotate(request: AuthenticatedHttpRequest, endpoint_id: int) -> HttpResponse:
    _require_admin(request, Action.CHANGE)
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    services.endpoint_rotate_secret(acting_user=request.user, endpoint=endpoint)
    messages.success(request, _("New signing secret created; update it in the receiver."))
    return redirect("webhooks:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_test(request: AuthenticatedHttpRequest, endpoint_id: int) -> HttpResponse:
    _require_admin(request, Action.CHANGE)
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    services.endpoint_send_test(acting_user=request.user, endpoint=endpoint)
    messages.success(request, _("Test event queued; a worker sends it within seconds."))
    return redirect("webhooks:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_remove(request: AuthenticatedHttpRequest, endpoint_id: int) -> HttpResponse:
    _require_admin(request, Action.CHANGE)
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    services.endpoint_delete(acting_user=request.user, endpoint=endpoint)
    messages.success(request, _("Webhook endpoint “%(name)s” deleted.") % {"name": endpoint.name})
    return redirect("webhooks:list")


@login_required
@require_POST
def delivery_replay(request: AuthenticatedHttpRequest, delivery_id: int) -> HttpResponse:
    _require_admin(request, Action.CHANGE)
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    services.delivery_replay(acting_user=request.user, delivery=delivery)
    messages.success(request, _("Delivery queued again."))
    return redirect("webhooks:detail", delivery.endpoint_id)
