"""REST endpoints for webhook endpoints and their delivery log (admins only)."""

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, ensure_model
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.core.http import AuthenticatedHttpRequest
from tandem.webhooks import selectors, services
from tandem.webhooks.events import EVENT_TYPES
from tandem.webhooks.models import Delivery, DeliveryStatus, Endpoint

router = Router(tags=["Webhooks"])

if TYPE_CHECKING:
    EventType = str
else:  # an enum in the schema, checked by the API: built from the one list of event types
    EventType = Literal[tuple(EVENT_TYPES)]
Kind = Literal["standard", "slack"]


class EndpointIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    url: str = Field(..., max_length=500, description="http or https; internal addresses are refused.")
    kind: Kind = "standard"
    event_types: list[EventType] = Field(default_factory=list, description="Empty: every event type.")
    is_active: bool = True


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    kind: Kind
    event_types: list[str]
    is_active: bool
    secret: str = Field(..., description="Verify webhook-signature with it (Standard Webhooks).")
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    message_id: str
    event_type: str
    payload: dict[str, Any]
    status: Literal["pending", "retrying", "succeeded", "failed"]
    attempts: int
    response_status: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class DeliveryFilter(Schema):
    status: Literal["pending", "retrying", "succeeded", "failed"] | None = None


def _data(payload: EndpointIn) -> dict[str, Any]:
    return {**payload.dict(), "event_types": list(payload.event_types)}


@router.get("/event-types", response={200: dict[str, str], **PROBLEM_RESPONSES}, summary="List event types")
def list_event_types(request: AuthenticatedHttpRequest) -> dict[str, str]:
    ensure_model(request.user, Action.VIEW, Endpoint)
    return {key: str(label) for key, label in EVENT_TYPES.items()}


@router.get("/endpoints", response={200: list[EndpointOut], **PROBLEM_RESPONSES}, summary="List webhook endpoints")
@paginate(Pagination)
def list_endpoints(request: AuthenticatedHttpRequest) -> QuerySet[Endpoint]:
    ensure_model(request.user, Action.VIEW, Endpoint)
    return selectors.endpoint_list()


@router.post("/endpoints", response={201: EndpointOut, **PROBLEM_RESPONSES}, summary="Create a webhook endpoint")
def create_endpoint(request: AuthenticatedHttpRequest, payload: EndpointIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Endpoint)
    return Status(201, services.endpoint_create(acting_user=request.user, **_data(payload)))


@router.get("/endpoints/{endpoint_id}", response={200: EndpointOut, **PROBLEM_RESPONSES}, summary="Get an endpoint")
def get_endpoint(request: AuthenticatedHttpRequest, endpoint_id: Id) -> Endpoint:
    ensure_model(request.user, Action.VIEW, Endpoint)
    return get_visible_or_404(Endpoint, user=request.user, pk=endpoint_id)


@router.put("/endpoints/{endpoint_id}", response={200: EndpointOut, **PROBLEM_RESPONSES}, summary="Replace an endpoint")
def update_endpoint(request: AuthenticatedHttpRequest, endpoint_id: Id, payload: EndpointIn) -> Endpoint:
    ensure_model(request.user, Action.CHANGE, Endpoint)
    endpoint = get_for_write(Endpoint, user=request.user, pk=endpoint_id)
    return services.endpoint_update(acting_user=request.user, endpoint=endpoint, **_data(payload))


@router.delete("/endpoints/{endpoint_id}", response={204: None, **PROBLEM_RESPONSES}, summary="Delete an endpoint")
def delete_endpoint(request: AuthenticatedHttpRequest, endpoint_id: Id) -> Status:
    ensure_model(request.user, Action.CHANGE, Endpoint)
    endpoint = get_for_write(Endpoint, user=request.user, action=Action.DELETE, pk=endpoint_id)
    services.endpoint_delete(acting_user=request.user, endpoint=endpoint)
    return Status(204, None)


@router.post(
    "/endpoints/{endpoint_id}/test",
    response={202: DeliveryOut, **PROBLEM_RESPONSES},
    summary="Send a test event",
    description="Queues a `webhook.test` event for this endpoint alone; a worker sends it.",
)
def test_endpoint(request: AuthenticatedHttpRequest, endpoint_id: Id) -> Status:
    ensure_model(request.user, Action.CHANGE, Endpoint)
    endpoint = get_for_write(Endpoint, user=request.user, pk=endpoint_id)
    return Status(202, services.endpoint_send_test(acting_user=request.user, endpoint=endpoint))


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response={200: list[DeliveryOut], **PROBLEM_RESPONSES},
    summary="List an endpoint's deliveries",
    description="Newest first.",
)
@paginate(Pagination)
def list_deliveries(
    request: AuthenticatedHttpRequest, endpoint_id: Id, filters: Query[DeliveryFilter]
) -> QuerySet[Delivery]:
    ensure_model(request.user, Action.VIEW, Endpoint)
    endpoint = get_visible_or_404(Endpoint, user=request.user, pk=endpoint_id)
    return selectors.endpoint_deliveries(endpoint=endpoint, status=filters.status)


@router.post(
    "/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut, **PROBLEM_RESPONSES},
    summary="Send a delivery again",
    description="Same message id (`webhook-id`), so receivers can deduplicate.",
)
def replay_delivery(request: AuthenticatedHttpRequest, delivery_id: Id) -> Status:
    ensure_model(request.user, Action.CHANGE, Endpoint)
    delivery = get_for_write(Delivery, user=request.user, pk=delivery_id)
    delivery = services.delivery_replay(acting_user=request.user, delivery=delivery)
    return Status(202, delivery)


__all__ = ["DeliveryStatus", "router"]
