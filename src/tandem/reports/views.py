"""The report button on the account page: the report in the browser, or the QBR pack as a PDF."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from tandem.core.errors import NotFound
from tandem.core.http import AuthenticatedHttpRequest
from tandem.jobs.computations import computation_start
from tandem.reports.services import report_render, report_title


@login_required
@permission_required("accounts.view_account", raise_exception=True)
# The report is one standalone document with its stylesheet inline, so that WeasyPrint prints the same
# HTML; it has no script at all, and script-src stays 'self'.
@csp_update({"style-src": [UNSAFE_INLINE]})  # type: ignore[arg-type]  # django-csp types views without URL args
def account_report(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    fmt = "pdf" if request.GET.get("format") == "pdf" else "html"
    if fmt == "pdf":
        # Printing takes seconds: a worker prints it while this page shows the progress.
        try:
            title = report_title(account_id=account_id, reader=request.user)
        except NotFound:
            raise Http404 from None
        row = computation_start(
            kind="reports.render", params={"account": account_id, "reader": request.user.pk}, requested_by=request.user
        )
        return render(request, "reports/pending.html", {"computation": row, "title": title, "account_id": account_id})
    try:
        content, filename = report_render(account_id=account_id, fmt=fmt, reader=request.user)
    except NotFound:
        raise Http404 from None
    if fmt == "html":
        return HttpResponse(content, content_type="text/html; charset=utf-8")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
