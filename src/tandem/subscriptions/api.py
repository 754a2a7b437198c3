"""REST endpoints for subscriptions with nested line items."""

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, ensure_model
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_fields, resolve_required
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.subscriptions import services
from tandem.subscriptions.models import Product, Subscription, SubscriptionItem
from tandem.subscriptions.schemas import (
    ProductIn,
    ProductOut,
    ProductPatch,
    SubscriptionFilter,
    SubscriptionIn,
    SubscriptionItemIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from tandem.subscriptions.selectors import subscription_list

router = Router(tags=["Subscriptions"])


def _subscriptions() -> QuerySet[Subscription]:
    return Subscription.objects.prefetch_related(
        Prefetch("items", queryset=SubscriptionItem.objects.select_related("product"))
    )


def _item_inputs(items: list[SubscriptionItemIn]) -> list[services.SubscriptionItemInput]:
    products = Product.objects.in_bulk([i.product for i in items])
    unknown = [
        FieldError(f"items.{n}.product", _("No product with id %(id)s.") % {"id": i.product})
        for n, i in enumerate(items)
        if i.product not in products
    ]
    if unknown:
        raise DomainError(_("Unknown reference."), unknown)
    return [
        services.SubscriptionItemInput(product=products[i.product], quantity=i.quantity, unit_price=i.unit_price)
        for i in items
    ]


@router.get(
    "/",
    response={200: list[SubscriptionOut], **PROBLEM_RESPONSES},
    summary="List subscriptions",
    description="Contract terms, newest first, each with its line items.",
)
@paginate(Pagination)
def list_subscriptions(request: AuthenticatedHttpRequest, filters: Query[SubscriptionFilter]) -> QuerySet[Subscription]:
    require_perm(request, "subscriptions.view_subscription")
    return filters.filter(subscription_list(user=request.user))


@router.get(
    "/{subscription_id}",
    response={200: SubscriptionOut, **PROBLEM_RESPONSES},
    summary="Get a subscription",
)
def get_subscription(request: AuthenticatedHttpRequest, subscription_id: Id) -> Subscription:
    require_perm(request, "subscriptions.view_subscription")
    return get_visible_or_404(_subscriptions(), user=request.user, pk=subscription_id)


@router.post(
    "/",
    response={201: SubscriptionOut, **PROBLEM_RESPONSES},
    summary="Create a subscription",
    description="Creates a contract term with its line items. MRR/ARR are computed from the "
    "items, and the account's revenue and renewal date are refreshed.",
)
def create_subscription(request: AuthenticatedHttpRequest, payload: SubscriptionIn) -> Status:
    require_perm(request, "subscriptions.add_subscription")
    data: dict[str, Any] = payload.dict(exclude={"items"})
    data["account"] = resolve_required(Account, data["account"], field="account")
    with transaction.atomic():
        subscription = services.subscription_create(acting_user=request.user, **data, items=_item_inputs(payload.items))
        ensure_created_in_scope(request.user, subscription)
    return Status(201, get_visible_or_404(_subscriptions(), user=request.user, pk=subscription.pk))


@router.patch(
    "/{subscription_id}",
    response={200: SubscriptionOut, **PROBLEM_RESPONSES},
    summary="Update a subscription",
    description="Changes only the fields sent. `items`, when sent, replaces all line items.",
)
def update_subscription(
    request: AuthenticatedHttpRequest, subscription_id: Id, payload: SubscriptionPatch
) -> Subscription:
    require_perm(request, "subscriptions.change_subscription")
    subscription = get_for_write(Subscription, user=request.user, pk=subscription_id)
    data = resolve_fields(payload.dict(exclude_unset=True, exclude={"items"}), {"account": Account})
    items = _item_inputs(payload.items) if payload.items is not None else None
    services.subscription_update(acting_user=request.user, subscription=subscription, data=data, items=items)
    return _subscriptions().get(pk=subscription.pk)


@router.delete(
    "/{subscription_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete a subscription",
    description="Deletes the term and its line items; the account's revenue is refreshed.",
)
def delete_subscription(request: AuthenticatedHttpRequest, subscription_id: Id) -> Status:
    require_perm(request, "subscriptions.delete_subscription")
    subscription = get_for_write(Subscription, user=request.user, action=Action.DELETE, pk=subscription_id)
    services.subscription_delete(acting_user=request.user, subscription=subscription)
    return Status(204, None)


products_router = Router(tags=["Subscriptions"])


@products_router.get("/", response={200: list[ProductOut], **PROBLEM_RESPONSES}, summary="List products")
@paginate(Pagination)
def list_products(request: AuthenticatedHttpRequest, active: bool | None = None) -> QuerySet[Product]:
    """The catalogue of plans and add-ons; line items name a product by its id."""
    require_perm(request, "subscriptions.view_subscription")
    products = Product.objects.order_by("kind", "name", "id")
    return products if active is None else products.filter(is_active=active)


@products_router.post("/", response={201: ProductOut, **PROBLEM_RESPONSES}, summary="Add a product")
def create_product(request: AuthenticatedHttpRequest, payload: ProductIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Product)  # configuration: CS managers and admins
    return Status(201, services.product_save(acting_user=request.user, data=payload.dict()))


@products_router.patch("/{product_id}", response={200: ProductOut, **PROBLEM_RESPONSES}, summary="Change a product")
def update_product(request: AuthenticatedHttpRequest, product_id: Id, payload: ProductPatch) -> Product:
    ensure_model(request.user, Action.CHANGE, Product)
    product = get_object_or_404(Product, pk=product_id)
    return services.product_save(acting_user=request.user, product=product, data=payload.dict(exclude_unset=True))
