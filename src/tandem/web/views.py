"""Pages of the shell that belong to no single domain app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.selectors import portfolio_overview
from tandem.core.http import AuthenticatedHttpRequest


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The logged-in user's portfolio at a glance."""
    overview = None
    if request.user.has_perm("accounts.view_account"):
        overview = portfolio_overview(user=request.user, today=timezone.localdate())
    return render(request, "web/home.html", {"overview": overview})


@login_required
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every set-up page in one place; each page itself shows forms only to those who may use them."""
    from tandem.health.models import Scorecard
    from tandem.playbooks.selectors import library_status

    scorecards = list(Scorecard.objects.filter(is_active=True).order_by("-is_primary", "name")[:10])
    return render(request, "web/settings.html", {"library": library_status(), "scorecards": scorecards})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site-wide 403: a page in the app's layout saying what was refused, problem JSON for the API."""
    if request.path.startswith("/api/"):
        from tandem.api.problems import problem_response

        return problem_response(status=403, kind="forbidden", detail=str(exception or "") or _("You may not do this."))
    reason = str(exception) if exception is not None and str(exception) else ""
    return render(request, "web/403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site-wide 404: problem JSON for API clients, a page in the shell for people."""
    if request.path.startswith("/api/"):
        from tandem.api.problems import api_path_not_found

        return api_path_not_found(request, exception)
    return render(request, "web/404.html", status=404)
