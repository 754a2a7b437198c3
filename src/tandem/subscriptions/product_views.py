"""Settings → Products: the plans and add-ons contract terms sell (managers change, everyone reads).

Products also arrive with imported terms (see docs/import.md); this is where a company without a
billing import, or with a new add-on to sell, keeps its catalogue.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tandem.access.scoping import Action, can_model
from tandem.accounts.forms import add_domain_errors
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.subscriptions.forms import ProductForm
from tandem.subscriptions.models import Product, SubscriptionStatus
from tandem.subscriptions.services import product_save


def _save(request: AuthenticatedHttpRequest, form: ProductForm, product: Product | None) -> Product | None:
    if not can_model(request.user, Action.CHANGE, Product):
        raise PermissionDenied
    if not form.is_valid():
        return None
    try:
        return product_save(acting_user=request.user, product=product, data=form.cleaned_data)
    except DomainError as exc:
        add_domain_errors(form, exc)
        return None


@login_required
def product_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The catalogue, with how many active terms sell each product, and a form to add one."""
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        product = _save(request, form, None)
        if product is not None:
            messages.success(request, _("Product “%(name)s” added.") % {"name": product.name})
            return redirect("subscriptions:products")
    products = Product.objects.annotate(
        active_terms=Count(
            "items__subscription",
            filter=Q(items__subscription__status=SubscriptionStatus.ACTIVE),
            distinct=True,
        )
    ).order_by("-is_active", "kind", "name")
    context = {"products": products, "form": form, "can_change": can_model(request.user, Action.CHANGE, Product)}
    return render(request, "subscriptions/products.html", context, status=400 if form.errors else 200)


@login_required
def product_edit(request: AuthenticatedHttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=product_id)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST":
        saved = _save(request, form, product)
        if saved is not None:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": saved.name})
            return redirect("subscriptions:products")
    elif not can_model(request.user, Action.CHANGE, Product):
        raise PermissionDenied  # the list shows the catalogue to everyone; the form is for managers
    return render(
        request,
        "subscriptions/product_edit.html",
        {"product": product, "form": form},
        status=400 if form.errors else 200,
    )
