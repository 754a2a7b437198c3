"""REST endpoints for NPS responses. Reading needs account view rights; recording needs change rights."""

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.access.shortcuts import ensure_created_in_scope
from tandem.accounts.models import Account, Contact
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve, resolve_required
from tandem.core.http import AuthenticatedHttpRequest
from tandem.surveys.models import NpsResponse
from tandem.surveys.selectors import nps_response_list
from tandem.surveys.services import nps_response_create

router = Router(tags=["NPS responses"])


class NpsResponseIn(Schema):
    account: Id
    contact: Id | None = None
    score: int = Field(..., ge=0, le=10, description="0-10; 0-6 detractor, 7-8 passive, 9-10 promoter.")
    comment: str = ""
    responded_at: dt.datetime
    external_id: str | None = None


class NpsResponseOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    contact: int | None = Field(None, alias="contact_id")
    score: int
    category: str
    comment: str
    responded_at: dt.datetime
    external_id: str | None


class NpsFilter(Schema):
    account: Id | None = None
    max_score: int | None = Field(None, ge=0, le=10, description="e.g. 6 for detractors only.")


@router.get("/", response={200: list[NpsResponseOut], **PROBLEM_RESPONSES}, summary="List NPS responses")
@paginate(Pagination)
def list_nps_responses(request: AuthenticatedHttpRequest, filters: Query[NpsFilter]) -> QuerySet[NpsResponse]:
    require_perm(request, "accounts.view_account")
    return nps_response_list(user=request.user, account_id=filters.account, max_score=filters.max_score)


@router.post("/", response={201: NpsResponseOut, **PROBLEM_RESPONSES}, summary="Record an NPS response")
def create_nps_response(request: AuthenticatedHttpRequest, payload: NpsResponseIn) -> Status:
    require_perm(request, "accounts.change_account")
    with transaction.atomic():
        response = nps_response_create(
            acting_user=request.user,
            account=resolve_required(Account, payload.account, field="account"),
            contact=resolve(Contact, payload.contact, field="contact"),
            score=payload.score,
            comment=payload.comment,
            responded_at=payload.responded_at,
            external_id=payload.external_id,
        )
        ensure_created_in_scope(request.user, response)
    return Status(201, response)
