from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tandem.traits.models import TraitDefinition, TraitEntity, TraitKind
from tandem.traits.values import trait_value


class TraitForm(forms.Form):
    entity = forms.ChoiceField(label=_("On"), choices=TraitEntity.choices)
    label = forms.CharField(label=_("Label"), max_length=100)
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        help_text=_("Lower-case letters, digits and _ (e.g. channel): the column name in imports and the API."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=TraitKind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a choice: one option per line."),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args: Any, editing: TraitDefinition | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "trait-%s")
        super().__init__(*args, **kwargs)
        if editing is not None:  # the key and the type are fixed once values exist
            for name in ("entity", "key", "kind"):
                del self.fields[name]

    def cleaned_choices(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("choices") or "").splitlines() if line.strip()]


def trait_form_fields(definitions: dict[str, TraitDefinition], values: dict[str, Any] | None) -> dict[str, forms.Field]:
    """One form field per custom field, for the account and contact forms (named ``trait_<key>``)."""
    fields: dict[str, forms.Field] = {}
    for key, defn in definitions.items():
        label, help_text = defn.label, defn.description
        initial = (values or {}).get(key)
        field: forms.Field
        if defn.kind == TraitKind.NUMBER:
            field = forms.FloatField(label=label, required=False, help_text=help_text)
        elif defn.kind == TraitKind.DATE:
            field = forms.DateField(
                label=label, required=False, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"})
            )
        elif defn.kind == TraitKind.BOOLEAN:
            field = forms.NullBooleanField(label=label, required=False, help_text=help_text)
        elif defn.kind == TraitKind.CHOICE:
            field = forms.ChoiceField(
                label=label, required=False, help_text=help_text, choices=[("", "—"), *[(c, c) for c in defn.choices]]
            )
        else:
            field = forms.CharField(label=label, required=False, max_length=500, help_text=help_text)
        field.initial = initial
        fields[f"trait_{key}"] = field
    return fields


def traits_from_cleaned(definitions: dict[str, TraitDefinition], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The ``traits`` changes a form's cleaned data makes (every defined field: empty clears it)."""
    out: dict[str, Any] = {}
    for key, defn in definitions.items():
        value = cleaned.pop(f"trait_{key}", None)
        out[key] = None if value in (None, "") else trait_value(defn, value)
    return out
