"""REST endpoints of email logging: list and read logged messages, assign an unassigned one."""

import datetime as dt
from typing import Literal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from tandem.access.scoping import Action, restrict
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.maillog import selectors, services
from tandem.maillog.models import LoggedEmail

router = Router(tags=["Email logging"])


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int


class EmailOut(Schema):
    id: int
    user_id: int
    account_id: int | None
    interaction_id: int | None
    direction: Literal["in", "out"]
    message_id: str
    from_address: str
    from_name: str
    to_addresses: list[str]
    cc_addresses: list[str]
    subject: str
    sent_at: dt.datetime
    received_via: Literal["smtp", "imap"]
    received_at: dt.datetime


class EmailDetailOut(EmailOut):
    text_body: str
    contact_ids: list[int]
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_contact_ids(obj: LoggedEmail) -> list[int]:
        return [c.pk for c in obj.contacts.all()]

    @staticmethod
    def resolve_attachments(obj: LoggedEmail) -> list[AttachmentOut]:
        return [AttachmentOut.model_validate(a, from_attributes=True) for a in obj.attachments.all()]


class EmailFilter(Schema):
    unassigned: bool | None = None
    account_id: Id | None = None


class AssignIn(Schema):
    account_id: Id


@router.get(
    "/messages",
    response={200: list[EmailOut], **PROBLEM_RESPONSES},
    summary="List logged email",
    description="Newest first. `unassigned=true`: the queue of messages that matched no account.",
)
@paginate(Pagination)
def list_logged_emails(request: AuthenticatedHttpRequest, filters: Query[EmailFilter]) -> QuerySet[LoggedEmail]:
    return selectors.email_list(user=request.user, unassigned=filters.unassigned, account_id=filters.account_id)


@router.get("/messages/{email_id}", response={200: EmailDetailOut, **PROBLEM_RESPONSES}, summary="Get a logged email")
def get_logged_email(request: AuthenticatedHttpRequest, email_id: Id) -> LoggedEmail:
    return get_visible_or_404(selectors.email_detail_queryset(), user=request.user, pk=email_id)


@router.post(
    "/messages/{email_id}/assign",
    response={200: EmailDetailOut, **PROBLEM_RESPONSES},
    summary="Assign a logged email to an account",
    description="Puts an unassigned message on the account's timeline.",
)
def assign_logged_email(request: AuthenticatedHttpRequest, email_id: Id, payload: AssignIn) -> LoggedEmail:
    email = get_for_write(selectors.email_detail_queryset(), user=request.user, pk=email_id)
    account = (
        restrict(Account.objects.all(), user=request.user, action=Action.CHANGE).filter(pk=payload.account_id).first()
    )
    if account is None:
        raise DomainError(
            _("Unknown reference."), [FieldError("account_id", _("No account you may change has this id."))]
        )
    services.email_assign(acting_user=request.user, email=email, account=account)
    return get_visible_or_404(selectors.email_detail_queryset(), user=request.user, pk=email.pk)
