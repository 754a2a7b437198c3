"""Pages of email logging: my BCC address, the unassigned queue, one message with its attachments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.policies import rights_for
from tandem.access.scoping import AccessDenied, Action, can, restrict
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.maillog import selectors, services
from tandem.maillog.forms import AssignForm
from tandem.maillog.models import LoggedEmail, MailAttachment


def _changeable_accounts(request: AuthenticatedHttpRequest):  # type: ignore[no-untyped-def]
    return restrict(Account.objects.all(), user=request.user, action=Action.CHANGE)


@login_required
def address_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    can_log = rights_for(request.user).can_write
    address = None
    if can_log:
        address = selectors.address_of(request.user) or services.mail_address_ensure(
            acting_user=request.user, user=request.user
        )
    recent = selectors.email_list(user=request.user).filter(user=request.user)[:10]
    return render(request, "maillog/address.html", {"address": address, "can_log": can_log, "recent": recent})


@login_required
@require_POST
def address_rotate(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not rights_for(request.user).can_write:
        raise AccessDenied(_("Your role may not log email."))
    services.mail_address_rotate(acting_user=request.user, user=request.user)
    messages.success(request, _("You have a new BCC address; mail to the old one is refused from now on."))
    return redirect("maillog:address")


@login_required
def unassigned_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.email_list(user=request.user, unassigned=True), 25).get_page(request.GET.get("page"))
    return render(request, "maillog/unassigned.html", {"page": page, "emails": page.object_list})


def _detail(
    request: AuthenticatedHttpRequest, email: LoggedEmail, form: AssignForm | None, status: int = 200
) -> HttpResponse:
    can_assign = (
        email.account_id is None and can(request.user, Action.CHANGE, email) and rights_for(request.user).can_write
    )
    if can_assign and form is None:
        form = AssignForm(accounts=_changeable_accounts(request))
    return render(
        request,
        "maillog/detail.html",
        {"email": email, "form": form if can_assign else None, "attachments": list(email.attachments.all())},
        status=status,
    )


@login_required
def email_detail(request: AuthenticatedHttpRequest, email_id: int) -> HttpResponse:
    email = get_visible_or_404(selectors.email_detail_queryset(), user=request.user, pk=email_id)
    return _detail(request, email, None)


@login_required
@require_POST
def email_assign(request: AuthenticatedHttpRequest, email_id: int) -> HttpResponse:
    email = get_for_write(selectors.email_detail_queryset(), user=request.user, pk=email_id)
    form = AssignForm(request.POST, accounts=_changeable_accounts(request))
    if form.is_valid():
        account = form.cleaned_data["account"]
        try:
            services.email_assign(acting_user=request.user, email=email, account=account)
        except DomainError as exc:
            for error in exc.errors:
                form.add_error("account" if error.field == "account" else None, error.message)
        else:
            messages.success(request, _("Email assigned to %(account)s.") % {"account": account.name})
            return redirect("maillog:detail", email.pk)
    return _detail(request, email, form, status=400)


@login_required
def attachment_download(request: AuthenticatedHttpRequest, email_id: int, attachment_id: int) -> FileResponse:
    email = get_visible_or_404(LoggedEmail.objects.all(), user=request.user, pk=email_id)
    attachment = MailAttachment.objects.filter(email=email, pk=attachment_id).first()
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
