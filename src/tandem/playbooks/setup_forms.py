"""Forms of the set-up editors: playbooks with step rows, email templates with language versions, work pools."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from tandem.playbooks.builder import OP_LABELS
from tandem.playbooks.models import EmailTemplate, Playbook, PlaybookStep, StepKind, WorkPool
from tandem.users.models import User

STEP_PREFIX = "step"
MAX_ROWS = 50
BRANCH_FIELDS = [
    ("tier", _("Tier")),
    ("lifecycle_stage", _("Lifecycle stage")),
    ("country", _("Country")),
    ("industry", _("Industry")),
    ("currency", _("Currency")),
    ("arr", _("ARR")),
]


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["name", "description", "cta_type", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class StepRow(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=StepKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    role = forms.ChoiceField(label=_("For"), choices=PlaybookStep._meta.get_field("role").choices)  # type: ignore[arg-type]
    due_offset_days = forms.IntegerField(label=_("Due after (days)"), min_value=0, max_value=3650, initial=0)
    email_template = forms.ModelChoiceField(
        label=_("Email template"), queryset=EmailTemplate.objects.none(), required=False
    )
    auto_send = forms.BooleanField(label=_("Send automatically"), required=False)
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    cond_field = forms.ChoiceField(label=_("If"), choices=BRANCH_FIELDS, required=False)
    cond_op = forms.ChoiceField(
        label=_("Comparison"), choices=[(o, OP_LABELS[o]) for o in ("eq", "ne", "lt", "gt", "in")], required=False
    )
    cond_value = forms.CharField(label=_("Value"), required=False, help_text=_("Several values: separate with commas."))
    skip_if_false = forms.IntegerField(
        label=_("Otherwise skip (steps)"), min_value=0, max_value=MAX_ROWS, initial=1, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email_template"].queryset = EmailTemplate.objects.order_by("name")  # type: ignore[attr-defined]

    @property
    def kind_value(self) -> str:
        return str(self["kind"].value() or StepKind.TASK)

    def step_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        field, op, value = data.pop("cond_field"), data.pop("cond_op") or "eq", data.pop("cond_value") or ""
        condition: dict[str, Any] = {}
        if data["kind"] == StepKind.BRANCH and field:
            parsed: Any = [v.strip() for v in value.split(",") if v.strip()] if op == "in" else value.strip()
            if field == "arr":
                try:
                    parsed = [float(v) for v in parsed] if isinstance(parsed, list) else float(parsed or 0)
                except ValueError:
                    parsed = value
            condition = {"field": field, "op": op, "value": parsed}
        data["condition"] = condition
        data["skip_if_false"] = data.get("skip_if_false") or 0
        if not data.get("id"):
            data.pop("id", None)
        return data


def step_initial(step: PlaybookStep) -> dict[str, Any]:
    cond = step.condition or {}
    value = cond.get("value", "")
    return {
        "id": step.pk,
        "kind": step.kind,
        "title": step.title,
        "role": step.role,
        "due_offset_days": step.due_offset_days,
        "email_template": step.email_template_id,
        "auto_send": step.auto_send,
        "body": step.body,
        "cond_field": cond.get("field", ""),
        "cond_op": cond.get("op", "eq"),
        "cond_value": ", ".join(str(v) for v in value) if isinstance(value, list) else value,
        "skip_if_false": step.skip_if_false or 1,
    }


ROW_FIELDS = list(StepRow.base_fields)


class StepRows:
    """The step rows of a playbook form: from the stored steps, or from a post with one action applied."""

    def __init__(
        self, *, steps: list[PlaybookStep] | None = None, data: QueryDict | None = None, action: str = ""
    ) -> None:
        if data is None:
            self.bound = False
            self.rows = [
                StepRow(initial=step_initial(s), prefix=f"{STEP_PREFIX}-{i}") for i, s in enumerate(steps or [])
            ]
            return
        raw_count = data.get(f"{STEP_PREFIX}-count") or "0"
        count = min(int(raw_count) if raw_count.isdigit() else 0, MAX_ROWS)
        raws = [{name: data.get(f"{STEP_PREFIX}-{i}-{name}") for name in ROW_FIELDS} for i in range(count)]
        verb, _sep, arg = action.partition(":")
        index = int(arg) if arg.isdigit() and int(arg) < len(raws) else None
        if verb == "add_step" and len(raws) < MAX_ROWS:
            raws.append({"kind": StepKind.TASK, "role": "account_owner", "due_offset_days": "0", "skip_if_false": "1"})
        elif verb == "remove_step" and index is not None:
            del raws[index]
        elif verb == "up" and index:
            raws[index - 1], raws[index] = raws[index], raws[index - 1]
        elif verb == "down" and index is not None and index + 1 < len(raws):
            raws[index + 1], raws[index] = raws[index], raws[index + 1]
        self.bound = verb in ("", "save")
        self.rows = []
        for i, raw in enumerate(raws):
            prefix = f"{STEP_PREFIX}-{i}"
            if self.bound:
                q = QueryDict(mutable=True)
                for name, value in raw.items():
                    if value is not None:
                        q[f"{prefix}-{name}"] = value
                self.rows.append(StepRow(q, prefix=prefix))
            else:
                initial: dict[str, Any] = {k: v for k, v in raw.items() if v is not None}
                initial["auto_send"] = raw.get("auto_send") in ("on", "true", "True", "1")
                self.rows.append(StepRow(initial=initial, prefix=prefix))

    def is_valid(self) -> bool:
        return all([row.is_valid() for row in self.rows])

    def steps(self) -> list[dict[str, Any]]:
        return [row.step_data() for row in self.rows]


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template = self.instance
        versions = {v.language: v for v in template.versions.all()} if template.pk else {}
        self.version_fields: list[tuple[str, str, str, str]] = []  # language, its name, subject field, body field
        for code, name in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            version = versions.get(code)
            sf, bf = f"subject_{code}", f"body_{code}"
            self.fields[sf] = forms.CharField(
                label=_("Subject"), max_length=300, required=False, initial=version.subject if version else ""
            )
            self.fields[bf] = forms.CharField(
                label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                initial=version.body if version else "",
            )  # fmt: skip
            self.version_fields.append((code, str(name), sf, bf))

    def versions(self) -> list[dict[str, str]]:
        return [
            {"language": code, "subject": self.cleaned_data.get(sf, ""), "body": self.cleaned_data.get(bf, "")}
            for code, _name, sf, bf in self.version_fields
        ]

    def field_for(self, error_field: str) -> str | None:
        """The form field an error of the service names (``versions.vi.body`` is ``body_vi``)."""
        if error_field in self.fields:
            return error_field
        parts = error_field.split(".")
        if len(parts) == 3 and parts[0] == "versions" and f"{parts[2]}_{parts[1]}" in self.fields:
            return f"{parts[2]}_{parts[1]}"
        return None


class WorkPoolForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = WorkPool
        fields = ["name", "strategy", "members"]


class LibraryForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE)
    with_metrics = forms.BooleanField(
        label=_("Also default metrics and a health scorecard"), required=False, initial=True
    )
