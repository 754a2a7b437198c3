"""Pages: schedule, move and cancel meetings, their notes, "My meetings", the calendar settings and the feed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.meetings import ical, selectors, services
from tandem.meetings.forms import CalDavForm, MeetingForm, NotesForm
from tandem.meetings.models import CalDavSettings, CalendarFeed, Meeting

PER_PAGE = 50


def _meeting_args(form: MeetingForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    return {
        "data": {k: data[k] for k in ("kind", "title", "starts_at", "ends_at", "location", "video_url", "agenda")},
        "contacts": list(data["contacts"]),
        "colleagues": list(data["colleagues"]),
    }


@login_required
def meeting_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    if request.method == "POST":
        form = MeetingForm(request.POST, account=account)
        if form.is_valid():
            args = _meeting_args(form)
            try:
                with transaction.atomic():
                    meeting = services.meeting_schedule(
                        acting_user=request.user,
                        account=account,
                        contacts=args["contacts"],
                        colleagues=args["colleagues"],
                        **args["data"],
                    )
                    ensure_created_in_scope(request.user, meeting)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Meeting scheduled; the invitations are on their way."))
                return redirect("meetings:detail", meeting.pk)
        return render(request, "meetings/form.html", {"form": form, "account": account, "meeting": None}, status=400)
    kind = request.GET.get("kind")
    form = MeetingForm(account=account, initial={"kind": kind} if kind else {})
    return render(request, "meetings/form.html", {"form": form, "account": account, "meeting": None})


@login_required
def meeting_edit(request: AuthenticatedHttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_for_write(Meeting.objects.select_related("account"), user=request.user, pk=meeting_id)
    if meeting.is_cancelled:
        raise Http404
    account = meeting.account
    if request.method == "POST":
        form = MeetingForm(request.POST, account=account)
        if form.is_valid():
            try:
                services.meeting_update(acting_user=request.user, meeting=meeting, **_meeting_args(form))
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Meeting saved; the attendees get the update."))
                return redirect("meetings:detail", meeting.pk)
        meeting.refresh_from_db()
        return render(request, "meetings/form.html", {"form": form, "account": account, "meeting": meeting}, status=400)
    form = MeetingForm(account=account, initial=MeetingForm.initial_for(meeting))
    return render(request, "meetings/form.html", {"form": form, "account": account, "meeting": meeting})


@login_required
@require_POST
def meeting_cancel(request: AuthenticatedHttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_for_write(Meeting, user=request.user, pk=meeting_id)
    services.meeting_cancel(acting_user=request.user, meeting=meeting)
    messages.success(request, _("Meeting cancelled; the attendees are told."))
    return redirect("meetings:detail", meeting.pk)


@login_required
def meeting_detail(request: AuthenticatedHttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_visible_or_404(
        Meeting.objects.select_related("account", "organizer", "interaction").prefetch_related(
            "contacts", "colleagues"
        ),
        user=request.user,
        pk=meeting_id,
    )
    context = {
        "meeting": meeting,
        "can_change": can(request.user, Action.CHANGE, meeting),
        "notes_form": NotesForm(initial={"summary": meeting.interaction.summary if meeting.interaction else ""}),
    }
    return render(request, "meetings/detail.html", context)


@login_required
def meeting_notes(request: AuthenticatedHttpRequest, meeting_id: int) -> HttpResponse:
    """GET shows the meeting; POST writes its notes on the account's timeline."""
    if request.method != "POST":
        return redirect("meetings:detail", meeting_id)
    meeting = get_for_write(Meeting.objects.select_related("account", "interaction"), user=request.user, pk=meeting_id)
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_record_notes(
                acting_user=request.user, meeting=meeting, summary=form.cleaned_data["summary"]
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("The notes are on the account's timeline."))
            return redirect("meetings:detail", meeting.pk)
    context = {"meeting": meeting, "can_change": True, "notes_form": form}
    return render(request, "meetings/detail.html", context, status=400)


@login_required
def my_meetings(request: AuthenticatedHttpRequest) -> HttpResponse:
    past = request.GET.get("when") == "past"
    page = Paginator(selectors.my_meetings(user=request.user, past=past), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "meetings/list.html", {"page": page, "meetings": list(page.object_list), "past": past})


@login_required
def account_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account page's meetings card (fetched by htmx)."""
    account = get_visible_or_404(Account, user=request.user, pk=account_id)
    context = {
        "account": account,
        "meetings": selectors.account_meetings(user=request.user, account=account),
        "can_change": can(request.user, Action.CHANGE, account),
    }
    return render(request, "meetings/_account_meetings.html", context)


# --- the calendar page: feed URL and CalDAV ------------------------------------------------------


def _calendar_context(request: AuthenticatedHttpRequest, form: CalDavForm | None = None) -> dict[str, Any]:
    feed = CalendarFeed.objects.filter(user=request.user).first()
    caldav = CalDavSettings.objects.filter(user=request.user).first()
    if form is None:
        initial = {"url": caldav.url, "username": caldav.username, "enabled": caldav.enabled} if caldav else {}
        form = CalDavForm(initial=initial)
    feed_url = request.build_absolute_uri(reverse("meetings_feed:feed", args=[feed.token])) if feed else ""
    return {"feed": feed, "feed_url": feed_url, "caldav": caldav, "form": form}


@login_required
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "meetings/calendar.html", _calendar_context(request))


@login_required
@require_POST
def feed_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.calendar_feed_rotate(acting_user=request.user, user=request.user)
    messages.success(request, _("Your calendar feed has a new address; the old one no longer works."))
    return redirect("meetings:calendar")


@login_required
@require_POST
def feed_revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.calendar_feed_revoke(acting_user=request.user, user=request.user)
    messages.success(request, _("Your calendar feed is turned off."))
    return redirect("meetings:calendar")


@login_required
@require_POST
def caldav_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CalDavForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.caldav_settings_save(
                acting_user=request.user,
                user=request.user,
                url=data["url"],
                username=data["username"],
                password=data["password"] or None,
                enabled=data["enabled"],
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Calendar saved; the first sync is queued."))
            return redirect("meetings:calendar")
    return render(request, "meetings/calendar.html", _calendar_context(request, form), status=400)


@login_required
@require_POST
def caldav_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.caldav_settings_delete(acting_user=request.user, user=request.user)
    messages.success(request, _("Calendar disconnected."))
    return redirect("meetings:calendar")


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private feed, without login: the token is the credential. An unknown token is a 404."""
    row = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if row is None or not row.user.is_active:
        raise Http404
    meetings, tasks = selectors.feed_items(user=row.user)
    body = ical.feed(meetings=meetings, tasks=tasks, name=f"Tandem — {row.user.get_full_name() or row.user.username}")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="tandem.ics"'
    return response
