"""Settings → Access rules: what each role may see and change, and the teams that share a book."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tandem.access.forms import AccessPolicyForm, TeamForm
from tandem.access.models import AccessPolicy, Team
from tandem.access.policies import CONFIGURABLE_ROLES, DEFAULT_POLICIES
from tandem.access.scoping import AccessDenied
from tandem.access.services import POLICY_FIELDS, access_policy_update, team_delete, team_save
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.users.roles import Role, user_roles


def _require_admin(request: AuthenticatedHttpRequest) -> None:
    if Role.ADMIN not in user_roles(request.user):
        raise AccessDenied(_("Only admins change access rules and teams."))


def _policy_forms(data: dict[str, str] | None = None) -> list[tuple[Role, AccessPolicyForm]]:
    stored = {p.role: p for p in AccessPolicy.objects.all()}
    forms = []
    for role in CONFIGURABLE_ROLES:
        instance = stored.get(role.value) or AccessPolicy(role=role.value, **DEFAULT_POLICIES[role])
        forms.append((role, AccessPolicyForm(data, instance=instance, prefix=role.value)))
    return forms


@login_required
@require_http_methods(["GET", "POST"])
def access_rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One form per role; a POST saves the role whose button was pressed."""
    _require_admin(request)
    status = 200
    forms = _policy_forms()
    if request.method == "POST":
        role = request.POST.get("role", "")
        forms = [
            (r, f if r.value != role else AccessPolicyForm(request.POST, instance=f.instance, prefix=r.value))
            for r, f in forms
        ]
        form = next((f for r, f in forms if r.value == role), None)
        if form is None:
            status = 400
        elif form.is_valid():
            try:
                access_policy_update(
                    role=role, data={k: form.cleaned_data[k] for k in POLICY_FIELDS}, acting_user=request.user
                )
            except DomainError as exc:
                for error in exc.errors:
                    form.add_error(error.field if error.field in form.fields else None, error.message)
                status = 400
            else:
                messages.success(request, _("Access rule for %(role)s saved.") % {"role": Role(role).label})
                return redirect("access:rules")
        else:
            status = 400
    teams = Team.objects.prefetch_related("members")
    return render(request, "access/rules.html", {"forms": forms, "teams": teams}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: AuthenticatedHttpRequest, team_id: int | None = None) -> HttpResponse:
    _require_admin(request)
    team = get_object_or_404(Team, pk=team_id) if team_id else None
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        try:
            team_save(
                team=team,
                name=form.cleaned_data["name"],
                members=form.cleaned_data["members"],
                acting_user=request.user,
            )
        except DomainError as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Team saved."))
            return redirect("access:rules")
    return render(request, "access/team.html", {"form": form, "team": team}, status=400 if form.errors else 200)


@login_required
@require_POST
def team_remove(request: AuthenticatedHttpRequest, team_id: int) -> HttpResponse:
    _require_admin(request)
    team = get_object_or_404(Team, pk=team_id)
    team_delete(team=team, acting_user=request.user)
    messages.success(request, _("Team “%(name)s” deleted.") % {"name": team.name})
    return redirect("access:rules")
