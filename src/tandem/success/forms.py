"""Forms of the success plan page: the plan, an outcome, a milestone, and completing one by hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tandem.accounts.models import Account, Contact
from tandem.metrics.models import MetricDefinition
from tandem.segments.models import Segment
from tandem.success.models import DesiredOutcome, KpiKind, OutcomeStatus, PlanTemplate, ServiceModel
from tandem.users.models import User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanForm(forms.Form):
    sponsor = forms.ModelChoiceField(label=_("Executive sponsor"), queryset=Contact.objects.none(), required=False)
    service_model = forms.ChoiceField(
        label=_("Service model"), choices=[("", "—"), *ServiceModel.choices], required=False
    )
    cadence_days = forms.IntegerField(label=_("Touch-point cadence (days)"), min_value=1, max_value=366, required=False)
    experience = forms.CharField(
        label=_("Appropriate experience"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the customer must reach its outcomes: touch points, people involved, constraints."),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "plan-%s")  # the plan page holds several forms: ids stay unique
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
            account=account, still_at_company=True
        ).order_by("last_name", "first_name")


def _metrics() -> Any:
    return MetricDefinition.objects.filter(is_active=True).order_by("name", "key")


class OutcomeForm(forms.Form):
    title = forms.CharField(label=_("Required outcome"), max_length=200)
    kpi_kind = forms.ChoiceField(label=_("Measured by"), choices=KpiKind.choices, initial=KpiKind.METRIC)
    metric = forms.ModelChoiceField(label=_("Metric"), queryset=MetricDefinition.objects.none(), required=False)
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    baseline = forms.FloatField(label=_("Baseline"), required=False)
    target = forms.FloatField(label=_("Target"))
    reported = forms.FloatField(label=_("Reported value"), required=False)
    target_date = forms.DateField(label=_("Target date"), required=False, widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=OutcomeStatus.choices, initial=OutcomeStatus.OPEN)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "outcome-%s")  # the plan page holds several forms: ids stay unique
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = _metrics()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kpi_kind") == KpiKind.METRIC and not data.get("metric"):
            self.add_error("metric", _("Choose the metric that measures this outcome."))
        return data


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    due_date = forms.DateField(label=_("Target date"), widget=DATE)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    outcome = forms.ModelChoiceField(label=_("On the way to"), queryset=DesiredOutcome.objects.none(), required=False)
    metric = forms.ModelChoiceField(
        label=_("Completes itself when the metric"), queryset=MetricDefinition.objects.none(), required=False
    )
    threshold = forms.FloatField(
        label=_("reaches"),
        required=False,
        help_text=_("At least this value; at most it for a metric where lower is better."),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "milestone-%s")  # the plan page holds several forms: ids stay unique
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
        self.fields["outcome"].queryset = DesiredOutcome.objects.filter(  # type: ignore[attr-defined]
            plan__account=account, status=OutcomeStatus.OPEN
        )
        self.fields["metric"].queryset = _metrics()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("metric") and data.get("threshold") is None:
            self.add_error("threshold", _("Give the value the metric must reach."))
        if data.get("threshold") is not None and not data.get("metric"):
            self.add_error("metric", _("Choose the metric that must reach this value."))
        return data


class CompleteForm(forms.Form):
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What shows it was reached: a link, a quote from the customer, a figure."),
    )


class ShareForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Share with"), queryset=Contact.objects.none())
    days = forms.IntegerField(label=_("Link valid for (days)"), min_value=1, max_value=180, initial=30)
    language = forms.ChoiceField(
        label=_("Language of the page"),
        choices=[("", _("The contact's language")), *settings.LANGUAGES],
        required=False,
    )
    require_code = forms.BooleanField(
        label=_("Ask for a one-time code mailed to the contact"),
        required=False,
        help_text=_("Then a forwarded link alone does not open the plan."),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "share-%s")  # the plan page holds several forms: ids stay unique
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
            account=account, still_at_company=True
        ).order_by("-is_primary", "last_name", "first_name", "id")


class SharedCommentForm(forms.Form):
    body = forms.CharField(label=_("Your comment"), max_length=4000, widget=forms.Textarea)


class SharedCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=12, required=False)


class TemplateApplyForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Template"), queryset=PlanTemplate.objects.none())

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "apply-%s")
        super().__init__(*args, **kwargs)
        from django.db.models import Case, IntegerField, Value, When

        from tandem.segments.models import SegmentMembership

        segments = SegmentMembership.objects.filter(account=account, left_on__isnull=True).values("segment_id")
        # The account's segments' templates first, then the general ones, then the others.
        self.fields["template"].queryset = PlanTemplate.objects.annotate(  # type: ignore[attr-defined]
            fit=Case(
                When(segment_id__in=segments, then=Value(0)),
                When(segment__isnull=True, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        ).order_by("fit", "name")


class TemplateSaveForm(forms.Form):
    name = forms.CharField(label=_("Template name"), max_length=120)
    segment = forms.ModelChoiceField(
        label=_("For the segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label=_("Any account"),
    )
    auto_apply = forms.BooleanField(
        label=_("Give it to the segment's accounts without a plan, every day"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "template-%s")
        super().__init__(*args, **kwargs)
