"""Reads for the webhooks settings pages and API."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from tandem.webhooks.models import Delivery, DeliveryStatus, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    """Endpoints with their delivery counts and the time of the latest delivery (one query)."""
    return Endpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SUCCEEDED)),
        failing=Count("deliveries", filter=Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.RETRYING])),
        last_delivery_at=Max("deliveries__created_at"),
    ).order_by("name", "id")


def endpoint_deliveries(*, endpoint: Endpoint, status: str | None = None) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def delivery_counts(*, endpoint: Endpoint) -> dict[str, int]:
    rows = Delivery.objects.filter(endpoint=endpoint).order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}
