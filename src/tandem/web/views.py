"""Pages of the shell that belong to no single domain app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tandem.accounts.selectors import portfolio_overview
from tandem.core.http import AuthenticatedHttpRequest


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The logged-in user's portfolio at a glance."""
    overview = None
    if request.user.has_perm("accounts.view_account"):
        overview = portfolio_overview(user=request.user, today=timezone.localdate())
    return render(request, "web/home.html", {"overview": overview})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site-wide 404: problem JSON for API clients, a page in the shell for people."""
    if request.path.startswith("/api/"):
        from tandem.api.problems import api_path_not_found

        return api_path_not_found(request, exception)
    return render(request, "web/404.html", status=404)
