"""The contract editor: a subscription's terms and its line items."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.core.errors import DomainError
from tandem.subscriptions.models import BillingPeriod, Product, Subscription, SubscriptionStatus
from tandem.subscriptions.services import SubscriptionItemInput


class TermsForm(forms.Form):
    start_date = forms.DateField(label=_("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(
        label=_("End"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty for an evergreen contract."),
    )
    renewal_date = forms.DateField(
        label=_("Renewal date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    billing_period = forms.TypedChoiceField(
        label=_("Billing period"), choices=BillingPeriod.choices, coerce=int, initial=BillingPeriod.ANNUAL
    )
    status = forms.ChoiceField(label=_("Status"), choices=SubscriptionStatus.choices, initial=SubscriptionStatus.ACTIVE)
    currency = forms.CharField(label=_("Currency"), max_length=3, widget=forms.TextInput(attrs={"size": 4}))
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False)

    @staticmethod
    def initial_for(subscription: Subscription) -> dict[str, Any]:
        return {
            "start_date": subscription.start_date,
            "end_date": subscription.end_date,
            "renewal_date": subscription.renewal_date,
            "billing_period": subscription.billing_period,
            "status": subscription.status,
            "currency": subscription.currency,
            "auto_renew": subscription.auto_renew,
        }


class ItemForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True).order_by("kind", "name")
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=12, decimal_places=2)
    unit_price = forms.DecimalField(
        label=_("Unit price"), min_value=0, max_digits=14, decimal_places=4, help_text=_("Per unit per billing period.")
    )


class BaseItemFormSet(forms.BaseFormSet):
    def items(self) -> list[SubscriptionItemInput]:
        """The line items to write: the filled-in rows not ticked for removal."""
        return [
            SubscriptionItemInput(
                product=form.cleaned_data["product"],
                quantity=form.cleaned_data["quantity"],
                unit_price=form.cleaned_data["unit_price"],
            )
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


ItemFormSet = forms.formset_factory(ItemForm, formset=BaseItemFormSet, extra=2, can_delete=True)


def item_initial(subscription: Subscription) -> list[dict[str, Any]]:
    return [
        {"product": item.product_id, "quantity": item.quantity, "unit_price": item.unit_price}
        for item in subscription.items.all().order_by("id")
    ]


def add_contract_errors(terms: TermsForm, items: BaseItemFormSet, exc: DomainError) -> None:
    """Put the service's errors on the terms' fields and on each line's (``items.2.quantity``)."""
    kept = [f for f in items.forms if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")]
    for error in exc.errors:
        parts = error.field.split(".")
        if parts[0] == "items" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(kept):
            line = kept[int(parts[1])]
            line.add_error(parts[2] if parts[2] in line.fields else None, error.message)
        else:
            terms.add_error(error.field if error.field in terms.fields else None, error.message)
    if not exc.errors:
        terms.add_error(None, exc.message)


class ProductForm(forms.ModelForm):
    """A plan or add-on of the catalogue (the code is fixed once the product exists)."""

    class Meta:
        model = Product
        fields = ["code", "name", "kind", "unit_label", "is_active"]
        help_texts = {
            "code": _("How imports and billing recognise it, e.g. pro-plan. Cannot change later."),
            "unit_label": _("What a quantity counts, e.g. seat, user, GB."),
            "is_active": _("Offered on new and edited terms; terms that sell it keep it either way."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
