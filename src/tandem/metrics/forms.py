"""The metric definition form (used by the admin): every kind's parameters checked before saving."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from tandem.metrics.defaults import FIELDS
from tandem.metrics.engine import MetricDefinitionError, validate_specs
from tandem.metrics.models import MetricDefinition, MetricKind

# The fields each kind needs filled in.
REQUIRED_BY_KIND: dict[str | None, tuple[str, ...]] = {
    MetricKind.PROPERTY_SUM: ("property",),
    MetricKind.RATIO: ("numerator", "denominator"),
    MetricKind.PER_SEAT: ("base",),
    MetricKind.CHANGE: ("base",),
}


class MetricDefinitionForm(forms.ModelForm):
    """A metric definition; refuses missing parameters, unknown or circular references."""

    class Meta:
        model = MetricDefinition
        fields = ["key", *FIELDS]  # the columns a YAML file or the defaults may set

    def clean_events(self) -> list[str]:
        events = self.cleaned_data.get("events") or []
        if isinstance(events, str):
            events = [events]
        if not isinstance(events, list) or not all(isinstance(e, str) and e for e in events):
            raise forms.ValidationError(_('Enter a list of event names, e.g. ["login", "export"].'))
        return events

    def clean(self) -> dict[str, Any]:
        from tandem.metrics.services import metric_spec

        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        kind = data.get("kind")
        for name in REQUIRED_BY_KIND.get(kind, ()):
            if not data.get(name):
                self.add_error(name, _("Required for this kind of metric."))
        if self.errors:
            return data
        candidate = MetricDefinition(**{f: data.get(f) for f in self.Meta.fields})
        others = MetricDefinition.objects.filter(is_active=True)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        specs = [metric_spec(d) for d in others]
        if data.get("is_active", True):
            specs.append(metric_spec(candidate))
        try:
            validate_specs(specs)
        except MetricDefinitionError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data
