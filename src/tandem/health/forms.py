"""The scorecard editor's forms: the edited spec (weights, methods, thresholds), a new scorecard, a new measure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tandem.core.errors import DomainError, FieldError
from tandem.health.models import MissingPolicy, Scorecard, ScoringMethod
from tandem.health.scoring import ScorecardSpec
from tandem.metrics.models import MetricDefinition


def _float(data: Mapping[str, str], name: str, errors: list[FieldError], *, required: bool) -> float | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        if required:
            errors.append(FieldError(name, _("Enter a number.")))
        return None
    try:
        return float(raw)
    except ValueError:
        errors.append(FieldError(name, _("Enter a number.")))
        return None


def spec_from_form(saved: ScorecardSpec, measure_ids: list[int], data: Mapping[str, str]) -> ScorecardSpec:
    """The saved spec with the edited weights, methods, thresholds and policy applied."""
    errors: list[FieldError] = []
    measures = []
    for mid, m in zip(measure_ids, saved.measures, strict=True):
        weight = _float(data, f"weight_{mid}", errors, required=True)
        method = data.get(f"method_{mid}", m.method)
        if method not in ScoringMethod.values:
            errors.append(FieldError(f"method_{mid}", _("Choose a scoring method.")))
        poor = _float(data, f"poor_{mid}", errors, required=method == ScoringMethod.THRESHOLDS)
        good = _float(data, f"good_{mid}", errors, required=method == ScoringMethod.THRESHOLDS)
        if weight is not None and weight < 0:
            errors.append(FieldError(f"weight_{mid}", _("Weights cannot be negative.")))
        measures.append(dataclasses.replace(m, weight=weight or 0.0, method=method, poor_value=poor, good_value=good))
    good_t = _float(data, "good_threshold", errors, required=True)
    poor_t = _float(data, "poor_threshold", errors, required=True)
    if good_t is not None and poor_t is not None and not (0 <= poor_t <= good_t <= 100):
        errors.append(FieldError("good_threshold", _("Thresholds must satisfy 0 ≤ poor ≤ good ≤ 100.")))
    policy = data.get("missing_policy", saved.missing_policy)
    if policy not in MissingPolicy.values:
        errors.append(FieldError("missing_policy", _("Choose a missing-data policy.")))
    if sum(m.weight for m in measures) <= 0:
        errors.append(FieldError("weights", _("At least one measure needs a positive weight.")))
    if errors or good_t is None or poor_t is None:  # a missing threshold is among the errors
        raise DomainError(_("The scorecard has errors."), errors)
    return dataclasses.replace(
        saved, measures=tuple(measures), good_threshold=good_t, poor_threshold=poor_t, missing_policy=policy
    )


class ScorecardForm(forms.ModelForm):
    """A new scorecard: its name, the segment it scores and its bands; measures are added on its page."""

    class Meta:
        model = Scorecard
        fields = ["name", "description", "segment", "is_primary", "good_threshold", "poor_threshold", "missing_policy"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class MeasureForm(forms.Form):
    """One metric added to a scorecard."""

    metric = forms.ModelChoiceField(label=gettext_lazy("Metric"), queryset=MetricDefinition.objects.none())
    group = forms.CharField(
        label=gettext_lazy("Group"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("e.g. Adoption, Support, Relationship."),
    )
    weight = forms.FloatField(label=gettext_lazy("Weight"), min_value=0, initial=1.0)
    method = forms.ChoiceField(
        label=gettext_lazy("Scoring"), choices=ScoringMethod.choices, initial=ScoringMethod.PERCENTILE
    )
    poor_value = forms.FloatField(
        label=gettext_lazy("Poor at"), required=False, help_text=gettext_lazy("Thresholds: scores 0 here.")
    )
    good_value = forms.FloatField(
        label=gettext_lazy("Good at"), required=False, help_text=gettext_lazy("Thresholds: scores 100 here.")
    )

    def __init__(self, *args: Any, scorecard: Scorecard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        used = scorecard.measures.values("metric_id")
        metric_field = self.fields["metric"]
        assert isinstance(metric_field, forms.ModelChoiceField)
        metric_field.queryset = MetricDefinition.objects.filter(is_active=True).exclude(pk__in=used).order_by("name")
