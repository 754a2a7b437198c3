"""Setting up health in the UI (managers): metric definitions (through the same upsert the YAML loader uses),
new scorecards and their measures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can_model
from tandem.accounts.forms import add_domain_errors
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.health.forms import MeasureForm, ScorecardForm
from tandem.health.models import Scorecard, ScorecardMeasure
from tandem.health.services import scorecard_create, scorecard_measure_add, scorecard_measure_remove
from tandem.metrics.defaults import FIELDS
from tandem.metrics.forms import MetricDefinitionForm
from tandem.metrics.models import MetricDefinition
from tandem.metrics.services import metric_definitions_upsert


class MetricEditForm(MetricDefinitionForm):
    """The admin's form with event names typed as a comma-separated list (chosen from the catalogue)."""

    events = forms.CharField(
        label=gettext_lazy("Events"),
        required=False,
        help_text=gettext_lazy("Event names, separated by commas; empty for every event."),
        widget=forms.TextInput(attrs={"list": "known-events"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["events"] = ", ".join(self.instance.events or [])
            self.fields["key"].disabled = True

    def clean_events(self) -> list[str]:
        raw = self.cleaned_data.get("events") or ""
        return [e.strip() for e in str(raw).split(",") if e.strip()]


@login_required
def metric_edit(request: AuthenticatedHttpRequest, metric_id: int | None = None) -> HttpResponse:
    if not can_model(request.user, Action.CHANGE, MetricDefinition):
        raise PermissionDenied
    metric = get_object_or_404(MetricDefinition, pk=metric_id) if metric_id else None
    form = MetricEditForm(request.POST or None, instance=metric)
    if request.method == "POST" and form.is_valid():
        item = {"key": metric.key if metric else form.cleaned_data["key"]}
        item |= {name: form.cleaned_data[name] for name in FIELDS if name in form.cleaned_data}
        try:
            metric_definitions_upsert(acting_user=request.user, items=[item])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Metric saved; it is computed from the next daily run."))
            return redirect("health:metrics")
    from tandem.usage.selectors import catalog_entries

    known = sorted({e.event for e in catalog_entries()})
    context = {"form": form, "metric": metric, "known_events": known}
    return render(request, "health/metric_form.html", context, status=400 if form.errors else 200)


def _ensure_manages_scorecards(request: AuthenticatedHttpRequest) -> None:
    if not can_model(request.user, Action.CHANGE, Scorecard):  # configuration: managers
        raise PermissionDenied


@login_required
def scorecard_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new scorecard; its page then adds the measures."""
    _ensure_manages_scorecards(request)
    form = ScorecardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = scorecard_create(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Scorecard created. Add the metrics it scores."))
            return redirect("health:scorecard", scorecard_id=card.pk)
    return render(request, "health/scorecard_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def measure_add(request: AuthenticatedHttpRequest, scorecard_id: int) -> HttpResponse:
    _ensure_manages_scorecards(request)
    card = get_object_or_404(Scorecard, pk=scorecard_id)
    form = MeasureForm(request.POST, scorecard=card)
    if form.is_valid():
        try:
            scorecard_measure_add(acting_user=request.user, scorecard=card, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Measure added. Preview the effect, then save the weights."))
            return redirect("health:scorecard", scorecard_id=card.pk)
    from tandem.health.views import scorecard_page

    return scorecard_page(request, card, measure_form=form, status=400)


@login_required
@require_POST
def measure_remove(request: AuthenticatedHttpRequest, scorecard_id: int, measure_id: int) -> HttpResponse:
    _ensure_manages_scorecards(request)
    measure = get_object_or_404(
        ScorecardMeasure.objects.select_related("scorecard"), pk=measure_id, scorecard_id=scorecard_id
    )
    try:
        scorecard_measure_remove(acting_user=request.user, measure=measure)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Measure removed."))
    return redirect("health:scorecard", scorecard_id=scorecard_id)
