"""User settings pages: personal API tokens and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from tandem.core.http import AuthenticatedHttpRequest
from tandem.users.forms import ApiTokenCreateForm
from tandem.users.models import ApiToken
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
