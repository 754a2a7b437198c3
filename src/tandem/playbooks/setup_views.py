"""Set-up pages: the shipped library, playbooks with their steps, email templates with a preview, work pools.

Everyone signed in sees them; only people who manage configuration see the forms (and may post).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can_model
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks import emails, selectors, services
from tandem.playbooks.models import EmailTemplate, Playbook, WorkPool
from tandem.playbooks.setup_forms import EmailTemplateForm, LibraryForm, PlaybookForm, StepRows, WorkPoolForm


def _manager(request: AuthenticatedHttpRequest) -> bool:
    return can_model(request.user, Action.CHANGE, Playbook)


def _require_manager(request: AuthenticatedHttpRequest) -> None:
    if not _manager(request):
        raise PermissionDenied


@login_required
def library(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What the shipped library holds and how much of it is installed; a manager installs it here."""
    form = LibraryForm(request.POST or None)
    if request.method == "POST":
        _require_manager(request)
        if form.is_valid():
            try:
                report = services.library_install(
                    acting_user=request.user,
                    language=form.cleaned_data["language"],
                    with_metrics=form.cleaned_data["with_metrics"],
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                if report.total:
                    messages.success(
                        request,
                        _(
                            "Installed: %(playbooks)s playbooks, %(templates)s email templates, %(rules)s rules, "
                            "%(pools)s work pools, %(metrics)s metrics, %(scorecards)s scorecards."
                        )
                        % {
                            "playbooks": report.created.get("playbooks", 0),
                            "templates": report.created.get("email_templates", 0),
                            "rules": report.created.get("rules", 0),
                            "pools": report.created.get("work_pools", 0),
                            "metrics": report.created.get("metrics", 0),
                            "scorecards": report.created.get("scorecards", 0),
                        },
                    )
                else:
                    messages.info(request, _("Everything in the library was installed already; nothing changed."))
                return redirect("playbooks:library")
    from tandem.playbooks import catalog

    context = {
        "form": form,
        "status": selectors.library_status(),
        "playbooks": [(key, name, steps) for key, (name, _t, _d, steps) in catalog.PLAYBOOKS.items()],
        "rules": [r[1] for r in catalog.RULES],
    }
    return render(request, "playbooks/library.html", context)


@login_required
def playbook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    playbooks = Playbook.objects.annotate(n_steps=Count("steps", distinct=True), n_rules=Count("rules", distinct=True))
    return render(request, "playbooks/playbook_list.html", {"playbooks": playbooks.order_by("name")})


@login_required
def playbook_edit(request: AuthenticatedHttpRequest, playbook_id: int | None = None) -> HttpResponse:
    """A playbook and its ordered steps; add, remove and reorder rows before saving."""
    playbook = get_object_or_404(Playbook, pk=playbook_id) if playbook_id else None
    steps = list(playbook.steps.select_related("email_template").order_by("position")) if playbook else []
    if request.method != "POST":
        if playbook is None:
            _require_manager(request)
        context: dict[str, Any] = {"playbook": playbook, "form": PlaybookForm(instance=playbook)}
        context |= {"rows": StepRows(steps=steps), "steps": steps}
        return render(request, "playbooks/playbook_form.html", context)
    _require_manager(request)
    action = str(request.POST.get("action") or "save")
    form = PlaybookForm(request.POST, instance=playbook)
    rows = StepRows(data=request.POST, action=action)
    errors: list[str] = []
    context = {"playbook": playbook, "form": form, "rows": rows, "errors": errors, "steps": steps}
    if action == "save":
        form_ok, rows_ok = form.is_valid(), rows.is_valid()
        if form_ok and rows_ok:
            try:
                saved = services.playbook_save(
                    acting_user=request.user, playbook=playbook, steps=rows.steps(), **form.cleaned_data
                )
            except DomainError as exc:
                for error in exc.errors:
                    parts = error.field.split(".")
                    if error.field in form.fields:
                        form.add_error(error.field, error.message)
                    elif (
                        len(parts) == 3
                        and parts[0] == "steps"
                        and parts[1].isdigit()
                        and int(parts[1]) < len(rows.rows)
                    ):
                        row = rows.rows[int(parts[1])]
                        name = {"condition": "cond_value"}.get(parts[2], parts[2])
                        row.add_error(name if name in row.fields else None, error.message)
                    else:
                        errors.append(error.message)
            else:
                messages.success(request, _("Playbook saved."))
                return redirect("playbooks:playbook_edit", playbook_id=saved.pk)
    return render(request, "playbooks/playbook_form.html", context, status=400 if action == "save" else 200)


@login_required
def template_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    templates = EmailTemplate.objects.annotate(n_versions=Count("versions")).order_by("name")
    return render(request, "playbooks/template_list.html", {"templates": templates})


@login_required
def template_edit(request: AuthenticatedHttpRequest, template_id: int | None = None) -> HttpResponse:
    """An email template, its versions in other languages, and a preview on a sample account."""
    template = get_object_or_404(EmailTemplate, pk=template_id) if template_id else None
    if request.method == "POST" or template is None:
        _require_manager(request)
    form = EmailTemplateForm(request.POST or None, instance=template)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in ("name", "subject", "body")}
            try:
                saved = services.email_template_save(
                    acting_user=request.user, template=template, versions=form.versions(), **data
                )
            except DomainError as exc:
                for error in exc.errors:
                    form.add_error(form.field_for(error.field), error.message)
            else:
                messages.success(request, _("Email template saved."))
                return redirect("playbooks:template_edit", template_id=saved.pk)
        status = 400
    preview = None
    if template is not None and request.method != "POST":
        preview = selectors.email_preview(subject=template.subject, body=template.body, user=request.user)
    context = {"template": template, "form": form, "placeholders": emails.PLACEHOLDERS, "preview": preview}
    return render(request, "playbooks/template_form.html", context, status=status)


@login_required
@require_POST
def template_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The subject and body being written, filled for a sample account (htmx fragment)."""
    language = str(request.POST.get("preview_language") or "")
    subject = str(request.POST.get(f"subject_{language}" if language else "subject") or "")
    body = str(request.POST.get(f"body_{language}" if language else "body") or "")
    preview = selectors.email_preview(subject=subject, body=body, user=request.user)
    return render(request, "playbooks/_email_preview.html", {"preview": preview})


@login_required
def pool_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    pools = WorkPool.objects.prefetch_related("members").order_by("name")
    return render(request, "playbooks/pool_list.html", {"pools": pools})


@login_required
def pool_edit(request: AuthenticatedHttpRequest, pool_id: int | None = None) -> HttpResponse:
    pool = get_object_or_404(WorkPool, pk=pool_id) if pool_id else None
    if request.method == "POST" or pool is None:
        _require_manager(request)
    form = WorkPoolForm(request.POST or None, instance=pool)
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.work_pool_save(
                    acting_user=request.user,
                    pool=pool,
                    name=form.cleaned_data["name"],
                    strategy=form.cleaned_data["strategy"],
                    members=form.cleaned_data["members"],
                )
            except DomainError as exc:
                for error in exc.errors:
                    form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Work pool saved."))
                return redirect("playbooks:pool_edit", pool_id=saved.pk)
        return render(request, "playbooks/pool_form.html", {"pool": pool, "form": form}, status=400)
    return render(request, "playbooks/pool_form.html", {"pool": pool, "form": form})
