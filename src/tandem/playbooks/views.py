"""Pages: My day, the team's queues, pools, a CTA, rules with a live preview, and the account section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.masking import mask_instance
from tandem.access.scoping import Action, can, can_model, restrict_list
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks import selectors, services
from tandem.playbooks.builder import RuleBuilder
from tandem.playbooks.forms import CloseForm, ExpansionOpportunityForm, ReassignForm, RuleForm, SnoozeForm
from tandem.playbooks.models import CallToAction, CtaTask, Rule, WorkPool
from tandem.playbooks.rules import TRIGGERS

# Default close date offered when an expansion signal becomes an opportunity.
EXPANSION_CLOSE_DAYS = 60

CHANGE = "accounts.change_account"


def _is_manager(request: AuthenticatedHttpRequest) -> bool:
    return can_model(request.user, Action.CHANGE, Rule)  # "manages configuration"


@login_required
def my_day(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    ctas = selectors.my_day(user=request.user, today=today)
    pools = WorkPool.objects.filter(members=request.user)
    return render(request, "playbooks/my_day.html", {"ctas": ctas, "today": today, "pools": pools})


@login_required
def team(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not _is_manager(request):
        raise PermissionDenied
    today = timezone.localdate()
    context = {
        "rows": selectors.team_queues(today=today),
        "outcomes": selectors.cta_outcomes(today=today),
        "breaches": restrict_list(selectors.sla_breaches(today=today), user=request.user),
        "pools": WorkPool.objects.all(),
        "today": today,
    }
    return render(request, "playbooks/team.html", context)


@login_required
def pool(request: AuthenticatedHttpRequest, pool_id: int) -> HttpResponse:
    work_pool = get_object_or_404(WorkPool, pk=pool_id)
    today = timezone.localdate()
    ctas = restrict_list(selectors.pool_queue(pool=work_pool, today=today), user=request.user)
    context = {"pool": work_pool, "ctas": ctas, "today": today}
    return render(request, "playbooks/pool.html", context)


def _cta_context(request: AuthenticatedHttpRequest, cta_id: int) -> dict:
    try:
        cta = selectors.cta_detail(cta_id=cta_id)
    except CallToAction.DoesNotExist:
        raise Http404 from None
    if not can(request.user, Action.VIEW, cta):
        raise Http404
    mask_instance(cta, user=request.user)
    return {
        "can_change": can(request.user, Action.CHANGE, cta),
        "cta": cta,
        "tasks": selectors.cta_tasks(cta_id=cta_id),
        "close_form": CloseForm(),
        "snooze_form": SnoozeForm(),
        "expansion_form": ExpansionOpportunityForm(
            initial={"close_date": timezone.localdate() + dt.timedelta(days=EXPANSION_CLOSE_DAYS)}
        ),
        "expansion_opportunity": selectors.cta_expansion_opportunity(cta_id=cta_id),
        "reassign_form": ReassignForm(initial={"owner": cta.owner_id}),
        "today": timezone.localdate(),
    }


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def cta_expansion_opportunity(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    """Open (once) the upsell opportunity for an expansion CTA and go to it."""
    cta = get_for_write(CallToAction, user=request.user, pk=cta_id)
    form = ExpansionOpportunityForm(request.POST)
    if not form.is_valid():
        for field_name, errors in form.errors.items():
            messages.error(request, f"{form.fields[field_name].label}: {' '.join(str(e) for e in errors)}")
        return redirect("playbooks:cta", cta_id=cta_id)
    try:
        opportunity, _created = services.cta_expansion_opportunity_open(
            acting_user=request.user,
            cta=cta,
            amount=form.cleaned_data["amount"],
            close_date=form.cleaned_data["close_date"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("playbooks:cta", cta_id=cta_id)
    return redirect("opportunities:detail", opportunity.pk)


@login_required
def cta_detail(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    return render(request, "playbooks/cta_detail.html", _cta_context(request, cta_id))


def _done(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    if request.htmx:
        return render(request, "playbooks/_tasks.html", _cta_context(request, cta_id))
    return redirect("playbooks:cta", cta_id=cta_id)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def task_complete(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    task = get_for_write(CtaTask, user=request.user, pk=task_id)
    try:
        services.cta_task_complete(acting_user=request.user, task=task)
    except DomainError as exc:
        messages.error(request, str(exc))
    return _done(request, task.cta_id)


@login_required
@permission_required(CHANGE, raise_exception=True)
def task_send_email(request: AuthenticatedHttpRequest, task_id: int) -> HttpResponse:
    """An email step: the email as it will go out (GET), and queueing it (POST).

    Says plainly when no SMTP server is configured: the email is queued and goes out once one is.
    """
    from tandem.notifications.delivery import smtp_configured

    task = get_for_write(
        CtaTask.objects.select_related("cta__account", "step__email_template"), user=request.user, pk=task_id
    )
    languages = dict(settings.LANGUAGES)
    language = str(request.POST.get("language") or request.GET.get("language") or settings.LANGUAGE_CODE)
    language = language if language in languages else settings.LANGUAGE_CODE
    if request.method == "POST":
        try:
            services.cta_email_send(acting_user=request.user, task=task, language=language)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if smtp_configured():
                messages.success(request, _("The email is queued for sending."))
            else:
                messages.warning(
                    request,
                    _(
                        "The email is queued. No SMTP server is configured yet, so it goes out as soon as an "
                        "administrator sets one up (TANDEM_SMTP_HOST)."
                    ),
                )
        return redirect("playbooks:cta", cta_id=task.cta_id)
    template = task.step.email_template if task.step else None
    preview = None
    if template is not None:
        subject, body = template.text_for(language)
        preview = selectors.email_preview(subject=subject, body=body, user=request.user, account=task.cta.account)
    available = [settings.LANGUAGE_CODE] + [v.language for v in template.versions.all()] if template else []
    context = {
        "task": task,
        "cta": task.cta,
        "preview": preview,
        "template": template,
        "smtp": smtp_configured(),
        "language": language,
        "version_languages": [(code, languages[code]) for code in available if code in languages],
        "already": getattr(task, "email", None),
    }
    return render(request, "playbooks/email_send.html", context)


def _cta_action(
    request: AuthenticatedHttpRequest,
    cta_id: int,
    form_class: type[forms.Form],
    act: Callable[[CallToAction, dict[str, Any]], object],
) -> HttpResponse:
    cta = get_for_write(CallToAction, user=request.user, pk=cta_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(cta, form.cleaned_data)
        except DomainError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("playbooks:cta", cta_id=cta_id)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def cta_close(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    return _cta_action(
        request,
        cta_id,
        CloseForm,
        lambda cta, d: services.cta_close(acting_user=request.user, cta=cta, outcome=d["outcome"], reason=d["reason"]),
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def cta_snooze(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    return _cta_action(
        request,
        cta_id,
        SnoozeForm,
        lambda cta, d: services.cta_snooze(
            acting_user=request.user, cta=cta, until=d["until"], today=timezone.localdate()
        ),
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def cta_reassign(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    return _cta_action(
        request,
        cta_id,
        ReassignForm,
        lambda cta, d: services.cta_reassign(acting_user=request.user, cta=cta, owner=d["owner"]),
    )


@login_required
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "playbooks/rules.html", {"rules": selectors.rule_list(), "triggers": TRIGGERS})


def _builder_action(request: AuthenticatedHttpRequest) -> str:
    return str(request.POST.get("action") or "save")


def _rule_page(
    request: AuthenticatedHttpRequest, rule: Rule | None, form: RuleForm, builder: RuleBuilder, status: int = 200
) -> HttpResponse:
    context = {"form": form, "rule": rule, "builder": builder, "triggers": TRIGGERS}
    return render(request, "playbooks/rule_form.html", context, status=status)


@login_required
def rule_edit(request: AuthenticatedHttpRequest, rule_id: int | None = None) -> HttpResponse:
    """A rule: settings, the trigger with its parameters, and conditions built from rows (managers only edit)."""
    rule = get_object_or_404(Rule.objects.select_related("playbook", "pool"), pk=rule_id) if rule_id else None
    if request.method != "POST":
        if rule is None and not _is_manager(request):
            raise PermissionDenied
        builder = RuleBuilder(
            rule_trigger=rule.trigger if rule else "",
            params=rule.params if rule else None,
            conditions=rule.conditions if rule else None,
        )
        return _rule_page(request, rule, RuleForm(instance=rule), builder)
    if not _is_manager(request):
        raise PermissionDenied
    action = _builder_action(request)
    form = RuleForm(request.POST, instance=rule)
    builder = RuleBuilder(data=request.POST, action=action)
    if action != "save":  # add or remove a condition row without JavaScript: nothing is saved
        return _rule_page(request, rule, RuleForm(request.POST, instance=rule), builder)
    form_ok, builder_ok = form.is_valid(), builder.is_valid()
    if form_ok and builder_ok:
        params, conditions = builder.cleaned()
        try:
            saved = services.rule_save(
                acting_user=request.user,
                rule=rule,
                trigger=builder.trigger,
                params=params,
                conditions=conditions,
                **form.cleaned_data,
            )
        except DomainError as exc:
            for error in exc.errors:
                if error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    builder.errors.append(error.message)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("playbooks:rule_edit", rule_id=saved.pk)
    return _rule_page(request, rule, form, builder, status=400)


@login_required
@require_POST
def rule_builder(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The builder again after adding or removing a row, or changing the trigger or a row's field (htmx)."""
    if not _is_manager(request):
        raise PermissionDenied
    builder = RuleBuilder(data=request.POST, action=str(request.POST.get("action") or "refresh"))
    return render(request, "playbooks/_rule_builder.html", {"builder": builder, "triggers": TRIGGERS})


@login_required
@require_POST
def rule_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The accounts a rule in the form matches right now (htmx fragment)."""
    builder = RuleBuilder(data=request.POST, action="preview")
    preview, error = None, ""
    if builder.is_valid():
        params, conditions = builder.cleaned()
        try:
            preview = services.rule_preview(
                trigger=builder.trigger, params=params, conditions=conditions, today=timezone.localdate()
            )
        except DomainError as exc:
            error = str(exc)
    else:
        error = _("Complete the trigger and the conditions to preview.")
    return render(request, "playbooks/_preview.html", {"preview": preview, "error": error})


@login_required
def account_ctas(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    ctas = selectors.account_open_ctas(user=request.user, account_id=account_id)
    return render(request, "playbooks/_account_ctas.html", {"ctas": ctas, "today": timezone.localdate()})
