"""The notification list (bell) and delivery preferences."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.core.outbound import outbound_url_validate
from tandem.notifications.models import Notification, NotificationPreference
from tandem.notifications.services import notifications_mark_read, preference_update, unread_count


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label=gettext_lazy("Email me each notification"), required=False)
    slack_webhook_url = forms.URLField(
        label=gettext_lazy("Slack incoming webhook URL"),
        required=False,
        assume_scheme="https",
        validators=[outbound_url_validate],
    )
    daily_digest = forms.BooleanField(label=gettext_lazy("Send me a daily digest"), required=False)


def _list_page(
    request: AuthenticatedHttpRequest, form: PreferenceForm | None = None, status: int = 200
) -> HttpResponse:
    items = list(Notification.objects.filter(user=request.user).order_by("-created_at", "-id")[:100])
    if form is None:
        pref = NotificationPreference.objects.filter(user=request.user).first()
        form = PreferenceForm(
            initial={
                "email": pref.email if pref else False,
                "slack_webhook_url": pref.slack_webhook_url if pref else "",
                "daily_digest": pref.daily_digest if pref else True,
            }
        )
    return render(request, "notifications/list.html", {"items": items, "form": form}, status=status)


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
def unread_badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The unread count in the top bar, fetched after the page loads so pages pay no query for it."""
    count = unread_count(user=request.user)
    return HttpResponse(f'<span class="bell-count" data-testid="unread-count">{count}</span>' if count else "")


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notifications_mark_read(user=request.user, ids=ids)
    return redirect("notifications:list")


@login_required
@require_POST
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        try:
            preference_update(acting_user=request.user, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Preferences saved."))
            return redirect("notifications:list")
    # The form again with its errors next to the field they concern.
    return _list_page(request, form, status=400)
