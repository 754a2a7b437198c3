"""Settings → Custom fields: the fields a company adds to its accounts and contacts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can, ensure, ensure_model
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account, Contact
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.traits.forms import TraitForm
from tandem.traits.models import TraitDefinition, TraitEntity
from tandem.traits.services import trait_define, trait_delete, trait_update


def _page(request: AuthenticatedHttpRequest, form: TraitForm | None = None, status: int = 200) -> HttpResponse:
    traits = list(TraitDefinition.objects.order_by("entity", "label"))
    filled = {}
    for t in traits:
        model = Account if t.entity == TraitEntity.ACCOUNT else Contact
        filled[t.pk] = model.objects.filter(Q(traits__has_key=t.key)).count()
    can_change = can(request.user, Action.CHANGE, TraitDefinition())
    context = {
        "traits": [(t, filled[t.pk]) for t in traits],
        "can_change": can_change,
        "form": (form or TraitForm()) if can_change else None,
    }
    return render(request, "traits/list.html", context, status=status)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def trait_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    ensure_model(request.user, Action.CHANGE, TraitDefinition)  # configuration: managers
    form = TraitForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            trait_define(
                acting_user=request.user,
                entity=data["entity"],
                key=data["key"],
                label=data["label"],
                kind=data["kind"],
                choices=form.cleaned_choices(),
                description=data["description"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Custom field added."))
            return redirect("traits:list")
    return _page(request, form, status=400)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def trait_edit(request: AuthenticatedHttpRequest, trait_id: int) -> HttpResponse:
    trait = get_object_or_404(TraitDefinition, pk=trait_id)
    if request.method == "POST":
        ensure(request.user, Action.CHANGE, trait)
        form = TraitForm(request.POST, editing=trait)
        if form.is_valid():
            try:
                trait_update(
                    acting_user=request.user,
                    trait=trait,
                    label=form.cleaned_data["label"],
                    choices=form.cleaned_choices(),
                    description=form.cleaned_data["description"],
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Custom field saved."))
                return redirect("traits:list")
        status = 400
    else:
        initial = {"label": trait.label, "choices": "\n".join(trait.choices), "description": trait.description}
        form = TraitForm(initial=initial, editing=trait)
        status = 200
    context = {"trait": trait, "form": form, "can_change": can(request.user, Action.CHANGE, trait)}
    return render(request, "traits/edit.html", context, status=status)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@require_POST
def trait_remove(request: AuthenticatedHttpRequest, trait_id: int) -> HttpResponse:
    trait = get_object_or_404(TraitDefinition, pk=trait_id)
    ensure(request.user, Action.CHANGE, trait)
    try:
        cleared = trait_delete(acting_user=request.user, trait=trait)
    except DomainError as exc:
        messages.error(request, " ".join(e.message for e in exc.errors) or exc.message)
        return redirect("traits:edit", trait.pk)
    messages.success(request, _("Custom field deleted, with its values on %(n)s records.") % {"n": cleared})
    return redirect("traits:list")
