"""Pages: the timeline of an account or a contact, notes with attachments and pinning, logging a call,
meeting, email or note, editing what was logged, and the notes of a call to action."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can, restrict
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account, Contact
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks.models import CallToAction
from tandem.timeline.forms import InteractionForm, NoteForm, QuickNoteForm, TimelineFilterForm
from tandem.timeline.models import Interaction, InteractionAttachment, InteractionKind
from tandem.timeline.selectors import Cursor, TimelinePage, timeline_page, timeline_people
from tandem.timeline.services import (
    attachment_add,
    attachment_delete,
    interaction_create,
    interaction_delete,
    interaction_pin,
    interaction_update,
)


@login_required
@permission_required("timeline.add_interaction", raise_exception=True)
def log_interaction(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    if request.method == "POST":
        form = InteractionForm(request.POST, request.FILES, account=account)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                with transaction.atomic():
                    interaction = interaction_create(
                        acting_user=request.user,
                        account=account,
                        author=request.user,
                        kind=data["kind"],
                        occurred_at=data["occurred_at"],
                        subject=data["subject"],
                        summary=data["summary"],
                        duration_minutes=data["duration_minutes"],
                        contacts=list(data["contacts"]),
                        users=list(data["users"]),
                    )
                    ensure_created_in_scope(request.user, interaction)
                    _attach_and_pin(request, interaction, files=data["attachments"], pinned=data["pinned"])
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Logged on the timeline."))
                return redirect("accounts:detail", account.pk)
        return render(request, "timeline/log_form.html", {"form": form, "account": account}, status=400)
    kind = request.GET.get("kind")
    initial = {"kind": kind} if kind in InteractionKind.values else {}
    return render(
        request,
        "timeline/log_form.html",
        {"form": InteractionForm(account=account, initial=initial), "account": account},
    )


def _notes_context(request: AuthenticatedHttpRequest, cta: CallToAction, form: NoteForm | None = None) -> dict:
    notes = Interaction.objects.filter(cta=cta).select_related("author").order_by("-occurred_at", "-id")
    return {
        "cta": cta,
        "notes": list(notes[:100]),
        "form": form or NoteForm(),
        "can_add": can(request.user, Action.CHANGE, cta) and request.user.has_perm("timeline.add_interaction"),
    }


@login_required
@permission_required("timeline.view_interaction", raise_exception=True)
def cta_notes(request: AuthenticatedHttpRequest, cta_id: int) -> HttpResponse:
    """A call to action's notes (fetched by its page); POST adds one, logged on the account's timeline too."""
    if request.method != "POST":
        cta = get_visible_or_404(CallToAction, user=request.user, pk=cta_id)
        return render(request, "timeline/_cta_notes.html", _notes_context(request, cta))
    if not request.user.has_perm("timeline.add_interaction"):
        from tandem.access.scoping import AccessDenied

        raise AccessDenied(_("You may not add notes."))
    cta = get_for_write(CallToAction, user=request.user, pk=cta_id)
    form = NoteForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            interaction_create(
                acting_user=request.user,
                account=cta.account,
                kind=InteractionKind.NOTE,
                occurred_at=timezone.now(),
                subject=_("Note on: %(title)s") % {"title": cta.title},
                summary=form.cleaned_data["text"],
                author=request.user,
                cta=cta,
            )
        except DomainError as exc:
            add_domain_errors(form, exc, aliases={"summary": "text"})
            status = 400
        else:
            form = NoteForm()
    else:
        status = 400
    if not request.htmx:
        if status == 200:
            messages.success(request, _("Note added."))
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("playbooks:cta", cta_id=cta.pk)
    # htmx swaps only a successful response: the form comes back with its errors as a 200.
    return render(request, "timeline/_cta_notes.html", _notes_context(request, cta, form))


def _attach_and_pin(request: AuthenticatedHttpRequest, interaction: Interaction, *, files: list, pinned: bool) -> None:
    for upload in files:
        attachment_add(acting_user=request.user, interaction=interaction, upload=upload)
    if pinned:
        interaction_pin(acting_user=request.user, interaction=interaction, pinned=True)


PAGE_SIZE = 25


def _page(
    request: AuthenticatedHttpRequest,
    *,
    account: Account,
    contact: Contact | None,
    account_contacts: list[Contact] | None = None,
    can_change: bool | None = None,
) -> dict:
    """The timeline's context: the filters as given (invalid ones dropped) and one page of entries.

    The account page passes the contacts and the change right it has already read, so the section
    costs no query twice.
    """
    people = [
        (u.pk, u.get_full_name() or u.get_username()) for u in timeline_people(user=request.user, account_id=account.pk)
    ]
    contacts = None
    if contact is None:
        if account_contacts is None:
            account_contacts = list(
                restrict(Contact.objects.filter(account=account), user=request.user).order_by(
                    "-still_at_company", "last_name", "first_name"
                )[:200]
            )
        contacts = [(c.pk, str(c)) for c in account_contacts]
    form = TimelineFilterForm(request.GET or None, people=people, contacts=contacts)
    values = form.values()
    try:
        cursor = Cursor.decode(values["cursor"])
    except ValueError:
        cursor = None
    page: TimelinePage = timeline_page(
        user=request.user,
        account_id=account.pk if contact is None else None,
        contact_id=contact.pk if contact is not None else values["contact_id"],
        types=values["types"],
        person_id=values["person_id"],
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    if can_change is None:
        can_change = can(request.user, Action.CHANGE, account)
    query = request.GET.copy()
    query.pop("cursor", None)
    return {
        "account": account,
        "contact": contact,
        "timeline": page,
        "timeline_filter": form,
        "timeline_url": reverse("timeline:contact", args=[contact.pk])
        if contact
        else reverse("timeline:account", args=[account.pk]),
        "filter_query": query.urlencode(),
        "filtered": bool(values["types"] or values["person_id"] or values["contact_id"]),
        "can_write_notes": can_change and request.user.has_perm("timeline.add_interaction"),
        "can_change_account": can_change,
        "note_form": QuickNoteForm(),
    }


def timeline_context(
    request: AuthenticatedHttpRequest,
    *,
    account: Account,
    contact: Contact | None = None,
    account_contacts: list[Contact] | None = None,
    can_change: bool | None = None,
) -> dict:
    """What the account and contact pages need to render the timeline section inline."""
    return _page(request, account=account, contact=contact, account_contacts=account_contacts, can_change=can_change)


def _render_timeline(request: AuthenticatedHttpRequest, context: dict, full_template: str) -> HttpResponse:
    if request.htmx:
        # "Older entries" appends the next page; a filter change replaces the whole section.
        template = "timeline/_items.html" if request.GET.get("cursor") else "timeline/_section.html"
        return render(request, template, context)
    return render(request, full_template, context)


@login_required
@permission_required("timeline.view_interaction", raise_exception=True)
def account_timeline(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """An account's whole timeline, filterable by type, colleague and contact."""
    account = get_visible_or_404(Account.objects.all(), user=request.user, pk=account_id)
    return _render_timeline(request, _page(request, account=account, contact=None), "timeline/account.html")


@login_required
@permission_required("timeline.view_interaction", raise_exception=True)
def contact_timeline(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    """A contact's timeline: what they took part in, answered, asked for or received."""
    contact = get_visible_or_404(Contact.objects.select_related("account"), user=request.user, pk=contact_id)
    context = _page(request, account=contact.account, contact=contact)
    return _render_timeline(request, context, "timeline/contact.html")


@login_required
@permission_required("timeline.add_interaction", raise_exception=True)
@require_POST
def note_new(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """A note written on the account's timeline, with its attachments."""
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = QuickNoteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                interaction = interaction_create(
                    acting_user=request.user,
                    account=account,
                    author=request.user,
                    kind=InteractionKind.NOTE,
                    occurred_at=timezone.now(),
                    summary=form.cleaned_data["text"],
                )
                ensure_created_in_scope(request.user, interaction)
                _attach_and_pin(
                    request, interaction, files=form.cleaned_data["attachments"], pinned=form.cleaned_data["pinned"]
                )
        except DomainError as exc:
            add_domain_errors(form, exc, aliases={"summary": "text"})
        else:
            messages.success(request, _("Note added."))
            return redirect(reverse("accounts:detail", args=[account.pk]) + "#timeline-heading")
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("accounts:detail", args=[account.pk]) + "#timeline-heading")


def _interaction_for_write(request: AuthenticatedHttpRequest, interaction_id: int) -> Interaction:
    return get_for_write(
        Interaction.objects.select_related("account", "author").prefetch_related("attachments"),
        user=request.user,
        pk=interaction_id,
    )


@login_required
@permission_required("timeline.change_interaction", raise_exception=True)
def interaction_edit(request: AuthenticatedHttpRequest, interaction_id: int) -> HttpResponse:
    """Edit what was logged (the audit history keeps each version), add or remove attachments."""
    interaction = _interaction_for_write(request, interaction_id)
    account = interaction.account
    initial = {
        "kind": interaction.kind,
        "occurred_at": timezone.localtime(interaction.occurred_at).replace(second=0, microsecond=0),
        "subject": interaction.subject,
        "summary": interaction.summary,
        "duration_minutes": interaction.duration_minutes,
        "contacts": list(interaction.contacts.all()),
        "users": list(interaction.users.all()),
        "pinned": interaction.pinned_at is not None,
    }
    status = 200
    if request.method == "POST":
        form = InteractionForm(request.POST, request.FILES, account=account, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    interaction_update(
                        acting_user=request.user,
                        interaction=interaction,
                        data={
                            "kind": data["kind"],
                            "occurred_at": data["occurred_at"],
                            "subject": data["subject"],
                            "summary": data["summary"],
                            "duration_minutes": data["duration_minutes"],
                        },
                        contacts=list(data["contacts"]),
                        users=list(data["users"]),
                    )
                    removed = {int(pk) for pk in request.POST.getlist("remove_attachment") if pk.isdigit()}
                    for attachment in interaction.attachments.all():
                        if attachment.pk in removed:
                            attachment_delete(acting_user=request.user, attachment=attachment)
                    for upload in data["attachments"]:
                        attachment_add(acting_user=request.user, interaction=interaction, upload=upload)
                    interaction_pin(acting_user=request.user, interaction=interaction, pinned=data["pinned"])
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(reverse("accounts:detail", args=[account.pk]) + f"#interaction-{interaction.pk}")
        status = 400
    else:
        form = InteractionForm(account=account, initial=initial)
    context = {"form": form, "account": account, "interaction": interaction}
    return render(request, "timeline/edit_form.html", context, status=status)


@login_required
@permission_required("timeline.delete_interaction", raise_exception=True)
@require_POST
def interaction_remove(request: AuthenticatedHttpRequest, interaction_id: int) -> HttpResponse:
    interaction = _interaction_for_write(request, interaction_id)
    account_id = interaction.account_id
    interaction_delete(acting_user=request.user, interaction=interaction)
    messages.success(request, _("Deleted from the timeline."))
    return redirect(reverse("accounts:detail", args=[account_id]) + "#timeline-heading")


@login_required
@permission_required("timeline.change_interaction", raise_exception=True)
@require_POST
def interaction_pin_toggle(request: AuthenticatedHttpRequest, interaction_id: int) -> HttpResponse:
    interaction = _interaction_for_write(request, interaction_id)
    pinned = request.POST.get("pinned") == "1"
    interaction_pin(acting_user=request.user, interaction=interaction, pinned=pinned)
    messages.success(request, _("Pinned to the top of the timeline.") if pinned else _("Unpinned."))
    return redirect(reverse("accounts:detail", args=[interaction.account_id]) + "#timeline-heading")


@login_required
@permission_required("timeline.view_interaction", raise_exception=True)
def attachment_download(request: AuthenticatedHttpRequest, attachment_id: int) -> FileResponse:
    """An attachment, for whoever may see its interaction; always as a download, never rendered inline."""
    attachment = get_visible_or_404(InteractionAttachment.objects.all(), user=request.user, pk=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type)
