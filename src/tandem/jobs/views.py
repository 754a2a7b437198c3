"""The progress of a long computation, polled by htmx, and the file it produced."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse

from tandem.core.http import AuthenticatedHttpRequest
from tandem.jobs.computations import progress_fragment
from tandem.jobs.models import Computation, JobStatus


def _visible(request: AuthenticatedHttpRequest, computation_id: int) -> Computation:
    """A user sees the computations they started and the stored daily ones; anyone else's is a 404."""
    row = Computation.objects.filter(pk=computation_id).first()
    if row is None or (row.requested_by_id is not None and row.requested_by_id != request.user.pk):
        raise Http404
    return row


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def computation_status(request: AuthenticatedHttpRequest, computation_id: int) -> HttpResponse:
    return progress_fragment(request, _visible(request, computation_id))


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def computation_download(request: AuthenticatedHttpRequest, computation_id: int) -> HttpResponse:
    row = _visible(request, computation_id)
    if row.status != JobStatus.DONE or row.output is None:
        raise Http404
    response = HttpResponse(bytes(row.output), content_type=row.content_type or "application/octet-stream")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{row.filename or "download"}"'
    return response
