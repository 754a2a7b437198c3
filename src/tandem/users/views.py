"""User pages: personal API tokens, the language switch, and (admins) colleagues: invite, roles, deactivate."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.users.forms import ApiTokenCreateForm
from tandem.users.models import ApiToken, User
from tandem.users.roles import Role
from tandem.users.services import api_token_create, api_token_revoke, user_set_preferred_language


@never_cache  # the page shows a new secret once; it must not be cached anywhere
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the user's tokens; a POST creates one and shows its secret this one time."""
    new_secret: str | None = None
    form = ApiTokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_secret = api_token_create(
            acting_user=request.user, user=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenCreateForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(
        request,
        "users/api_tokens.html",
        {"form": form, "tokens": tokens, "new_secret": new_secret},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_token_revoke_view(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    api_token_revoke(acting_user=request.user, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("users:api_tokens")


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie + redirect), and remember the choice on the signed-in user."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_preferred_language(acting_user=request.user, user=request.user, language=language)
    return response


def _roles_of(user: User) -> list[Role]:
    """The user's roles from their prefetched groups (no query per user)."""
    names = {g.name for g in user.groups.all()}
    roles = [role for role in Role if role.group_name in names]
    if user.is_superuser and Role.ADMIN not in roles:
        roles.insert(0, Role.ADMIN)
    return roles


def _require_admin(request: AuthenticatedHttpRequest) -> None:
    from tandem.access.policies import rights_for

    if not rights_for(request.user).is_admin:
        raise PermissionDenied


def _apply_errors(form: forms.Form, exc: DomainError) -> None:
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


@never_cache  # may show a set-password link once
@login_required
@require_http_methods(["GET", "POST"])
def user_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Colleagues with their roles; an admin invites one here (initial password or a set-password link)."""
    from tandem.users.forms import UserInviteForm
    from tandem.users.selectors import password_set_path, user_list
    from tandem.users.services import user_invite

    _require_admin(request)
    form = UserInviteForm(request.POST or None)
    link = ""
    invited = None
    if request.method == "POST" and form.is_valid():
        try:
            invited = user_invite(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            if not form.cleaned_data["password"]:
                link = request.build_absolute_uri(password_set_path(invited))
            messages.success(request, _("%(user)s can now sign in.") % {"user": invited})
            form = UserInviteForm()
    users = [(u, [r.label for r in _roles_of(u)]) for u in user_list()]
    context = {"form": form, "users": users, "link": link, "invited": invited}
    return render(request, "users/user_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit_view(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    from tandem.users.forms import UserEditForm
    from tandem.users.models import User
    from tandem.users.roles import user_roles
    from tandem.users.selectors import password_set_path
    from tandem.users.services import user_update

    _require_admin(request)
    person = get_object_or_404(User, pk=user_id)
    initial = {
        "email": person.email,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "roles": [r.value for r in user_roles(person)],
        "is_active": person.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(acting_user=request.user, user=person, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("User saved."))
            return redirect("users:edit", user_id=person.pk)
    link = request.build_absolute_uri(password_set_path(person)) if request.GET.get("link") else ""
    context = {"form": form, "person": person, "link": link}
    return render(request, "users/user_edit.html", context, status=400 if form.errors else 200)
