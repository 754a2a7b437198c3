from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.success.models import ServiceModel


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    service_model = forms.ChoiceField(
        label=_("Service model"),
        choices=[("", "—"), *ServiceModel.choices],
        required=False,
        help_text=_("How the accounts in this segment are served: high, low or tech touch."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", "segment-%s")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
