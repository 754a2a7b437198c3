"""The customer's side of a shared success plan: no login, read-only, in the contact's language.

The page is a standalone document (the same one the HTML and PDF exports print) with its
stylesheet inline and no script, so it carries nothing of the app's navigation or data beyond the
plan. Its only writes are the customer's comments and the one-time code.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from tandem.accounts.forms import add_domain_errors
from tandem.core.errors import DomainError
from tandem.success.forms import SharedCodeForm, SharedCommentForm
from tandem.success.models import PlanShare
from tandem.success.selectors import account_plan, plan_comments
from tandem.success.sharing import (
    ShareProblem,
    ShareRefused,
    masked_email,
    plan_comment_add,
    plan_share_code_check,
    plan_share_code_send,
    plan_share_viewed,
    share_resolve,
)

SESSION_KEY = "tandem_plan_shares_verified"


def _verified(request: HttpRequest, share: PlanShare) -> bool:
    return not share.require_code or share.pk in request.session.get(SESSION_KEY, [])


def _in_language(response: HttpResponse, language: str) -> HttpResponse:
    response["Content-Language"] = language
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token must not leak to another site the plan links to; same-origin keeps the form's Origin (CSRF).
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request: HttpRequest, refused: ShareRefused) -> HttpResponse:
    language = refused.share.language if refused.share is not None else translation.get_language()
    with translation.override(language):
        response = render(
            request,
            "success/shared_refused.html",
            {"problem": refused.problem.value, "share": refused.share},
            status=404 if refused.problem == ShareProblem.INVALID else 410,
        )
    return _in_language(response, language)


@never_cache
@csp_update({"style-src": [UNSAFE_INLINE]})  # type: ignore[arg-type]  # django-csp types views without URL args
def shared_plan(request: HttpRequest, token: str) -> HttpResponse:
    try:
        share = share_resolve(token)
    except ShareRefused as refused:
        return _refused(request, refused)
    if not _verified(request, share):
        return redirect("shared:code", token)
    account = share.plan.account
    with translation.override(share.language):
        form = SharedCommentForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    plan_comment_add(acting_user=None, share=share, body=form.cleaned_data["body"])
                except DomainError as exc:
                    add_domain_errors(form, exc)
                    status = exc.status
                else:
                    return redirect(f"{request.path}?sent=1")
            else:
                status = 400
        else:
            plan_share_viewed(share=share)
        today = timezone.localdate()
        context = {
            "account": account,
            "view": account_plan(account_id=account.pk, today=today),
            "today": today,
            "shared": True,
            "share": share,
            "comments": plan_comments(plan_id=share.plan_id),
            "form": form,
            "sent": request.GET.get("sent") == "1" and status == 200,
            "for_pdf": False,
        }
        response = render(request, "success/plan_document.html", context, status=status)
    return _in_language(response, share.language)


@never_cache
@csp_update({"style-src": [UNSAFE_INLINE]})  # type: ignore[arg-type]
def shared_plan_code(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for the one-time code: send one to the contact's address, then check what is typed."""
    try:
        share = share_resolve(token)
    except ShareRefused as refused:
        return _refused(request, refused)
    if _verified(request, share):
        return redirect("shared:plan", token)
    with translation.override(share.language):
        form = SharedCodeForm(request.POST or None)
        status, sent_to, wrong = 200, "", False
        if request.method == "POST" and form.is_valid():
            if request.POST.get("action") == "send":
                try:
                    sent_to = plan_share_code_send(share=share)
                except DomainError as exc:
                    add_domain_errors(form, exc)
                    status = exc.status
            elif plan_share_code_check(share=share, code=form.cleaned_data["code"]):
                request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), share.pk]
                return redirect("shared:plan", token)
            else:
                wrong, status = True, 400
                form.add_error("code", _("This code is not right or no longer valid; ask for a new one."))
        context = {
            "share": share,
            "account": share.plan.account,
            "form": form,
            "sent_to": sent_to,
            "address": masked_email(share.contact.email) if share.contact.email else "",
            "wrong": wrong,
        }
        response = render(request, "success/shared_code.html", context, status=status)
    return _in_language(response, share.language)
