"""The QBR pack (PDF) of an account, printed on a worker (tandem.jobs.computations)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tandem.jobs.computations import Output, Progress
from tandem.jobs.models import Computation


def report_compute(params: dict[str, Any], progress: Progress) -> Output:
    """Render the account's report as its reader may see it, then print it with WeasyPrint."""
    from tandem.reports.services import html_to_pdf, report_html, report_title
    from tandem.users.models import User

    reader = User.objects.get(pk=params["reader"])
    progress(10, _("Collecting the account's data"))
    title = report_title(account_id=int(params["account"]), reader=reader)
    html = report_html(account_ids=[int(params["account"])], title=title, reader=reader, for_pdf=True)
    progress(50, _("Printing the PDF"))
    pdf = html_to_pdf(html)
    return Output(
        result={"account": params["account"]},
        content=pdf,
        content_type="application/pdf",
        filename=f"account-{params['account']}.pdf",
    )


def report_render(request: HttpRequest, row: Computation) -> HttpResponse:
    return render(request, "reports/_ready.html", {"computation": row})
