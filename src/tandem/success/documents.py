"""The success plan as a document: the page the customer opens, the HTML download and the PDF."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tandem.accounts.models import Account
from tandem.jobs.computations import Output, Progress
from tandem.jobs.models import Computation
from tandem.success.selectors import account_plan

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def plan_document_html(*, account: Account, language: str, for_pdf: bool) -> str:
    with translation.override(language):
        today = timezone.localdate()
        context = {
            "account": account,
            "view": account_plan(account_id=account.pk, today=today),
            "today": today,
            "shared": False,
            "for_pdf": for_pdf,
        }
        return render_to_string("success/plan_document.html", context)


def plan_pdf_compute(params: dict[str, Any], progress: Progress) -> Output:
    from tandem.reports.services import html_to_pdf

    account = Account.objects.select_related("csm_owner").get(pk=params["account"])
    progress(10, _("Collecting the plan"))
    html = plan_document_html(account=account, language=str(params.get("language") or "en"), for_pdf=True)
    progress(40, _("Printing the PDF"))
    return Output(
        result={"account": account.pk},
        content=html_to_pdf(html),
        content_type="application/pdf",
        filename=f"success-plan-{account.pk}.pdf",
    )


def plan_pdf_render(request: Any, row: Computation) -> Any:
    from django.shortcuts import render

    return render(request, "reports/_ready.html", {"computation": row})
