"""REST endpoints for accounts and contacts: parse, call a service, return a schema."""

from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tandem.access.masking import sees_contract_values
from tandem.access.scoping import Action
from tandem.access.shortcuts import ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts import selectors, services
from tandem.accounts.models import Account, Contact
from tandem.accounts.schemas import (
    AccountFilter,
    AccountIn,
    AccountOrdering,
    AccountOut,
    AccountPatch,
    ContactFilter,
    ContactIn,
    ContactOut,
    ContactPatch,
)
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve_collecting, resolve_fields, with_reference_errors
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest

accounts_router = Router(tags=["Accounts"])
contacts_router = Router(tags=["Contacts"])

ACCOUNT_REFS = {"parent": Account}
OWNER_FIELDS = ("csm_owner", "am_owner")  # by id, username or email


def _account_ordering(ordering: AccountOrdering) -> list:
    name = ordering.lstrip("-")
    column = F(name).desc(nulls_last=True) if ordering.startswith("-") else F(name).asc(nulls_last=True)
    return [column, "id"]


@accounts_router.get(
    "/",
    response={200: list[AccountOut], **PROBLEM_RESPONSES},
    summary="List accounts",
    description="Accounts, filtered and ordered; `q` searches name, domain and external id. "
    "Look an account up by your own identifier with `external_id=`. Archived accounts are left out "
    "unless `archived=archived` (only them) or `archived=all` (live and archived) asks for them.",
)
@paginate(Pagination)
def list_accounts(
    request: HttpRequest,
    filters: Query[AccountFilter],
    ordering: AccountOrdering = "name",
) -> QuerySet[Account]:
    require_perm(request, "accounts.view_account")
    if ordering.lstrip("-") == "arr" and not sees_contract_values(request.user):
        raise DomainError(
            _("Invalid ordering."),
            [FieldError("ordering", _("Your access rule hides contract values; order by another field."))],
            status=422,
        )
    accounts = selectors.accounts_visible(user=request.user, archived=filters.archived)
    if filters.q:
        accounts = selectors.account_search(accounts, filters.q)
    rest = filters.model_copy(update={"q": None, "archived": None})
    return rest.filter(accounts).order_by(*_account_ordering(ordering))


@accounts_router.get("/{account_id}", response={200: AccountOut, **PROBLEM_RESPONSES}, summary="Get an account")
def get_account(request: AuthenticatedHttpRequest, account_id: Id) -> Account:
    require_perm(request, "accounts.view_account")
    return get_visible_or_404(Account, user=request.user, pk=account_id)


@accounts_router.post(
    "/",
    response={201: AccountOut, **PROBLEM_RESPONSES},
    summary="Create an account",
    description="A duplicate `external_id`, `crm_id` or `billing_id` is a 409 naming the field.",
)
def create_account(request: AuthenticatedHttpRequest, payload: AccountIn) -> Status:
    require_perm(request, "accounts.add_account")
    data = payload.dict()
    errors = resolve_collecting(data, ACCOUNT_REFS, users=OWNER_FIELDS)

    def write() -> Account:
        account = services.account_create(acting_user=request.user, **data)
        ensure_created_in_scope(request.user, account)
        return account

    account = with_reference_errors(errors, write)
    return Status(201, get_visible_or_404(Account, user=request.user, pk=account.pk))  # as stored: to the cent


@accounts_router.patch(
    "/{account_id}",
    response={200: AccountOut, **PROBLEM_RESPONSES},
    summary="Update an account",
    description="Changes only the fields sent. Revenue fields are derived from subscriptions.",
)
def update_account(request: AuthenticatedHttpRequest, account_id: Id, payload: AccountPatch) -> Account:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    data = payload.dict(exclude_unset=True)
    archived = data.pop("archived", None)
    errors = resolve_collecting(data, ACCOUNT_REFS, users=OWNER_FIELDS)
    # An unknown reference leaves its field as it was while the rest is still checked.
    with_reference_errors(
        errors,
        lambda: services.account_update(
            acting_user=request.user, account=account, data={k: v for k, v in data.items() if k not in _failed(errors)}
        ),
    )
    if archived is not None:
        services.account_archive(acting_user=request.user, account=account, archived=archived)
    return get_visible_or_404(Account, user=request.user, pk=account.pk)


@accounts_router.delete(
    "/{account_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Delete an account",
    description="Also deletes its contacts, subscriptions, tickets and interactions.",
)
def delete_account(request: AuthenticatedHttpRequest, account_id: Id) -> Status:
    require_perm(request, "accounts.delete_account")
    services.account_delete(
        acting_user=request.user, account=get_for_write(Account, user=request.user, action=Action.DELETE, pk=account_id)
    )
    return Status(204, None)


def _failed(errors: list[FieldError]) -> set[str]:
    return {e.field for e in errors}


# --- Contacts ----------------------------------------------------------------------------------


def _contacts() -> QuerySet[Contact]:
    return Contact.objects.prefetch_related("roles")


@contacts_router.get(
    "/",
    response={200: list[ContactOut], **PROBLEM_RESPONSES},
    summary="List contacts",
    description="People still at the company first, the primary contact leading, then by name "
    "(as on the account page).",
)
@paginate(Pagination)
def list_contacts(request: AuthenticatedHttpRequest, filters: Query[ContactFilter]) -> QuerySet[Contact]:
    require_perm(request, "accounts.view_contact")
    return filters.filter(selectors.contact_list(user=request.user))


@contacts_router.get("/{contact_id}", response={200: ContactOut, **PROBLEM_RESPONSES}, summary="Get a contact")
def get_contact(request: AuthenticatedHttpRequest, contact_id: Id) -> Contact:
    require_perm(request, "accounts.view_contact")
    return get_visible_or_404(_contacts(), user=request.user, pk=contact_id)


@contacts_router.post(
    "/",
    response={201: ContactOut, **PROBLEM_RESPONSES},
    summary="Create a contact",
    description="`roles` are stakeholder roles. A new primary contact replaces the old one.",
)
def create_contact(request: AuthenticatedHttpRequest, payload: ContactIn) -> Status:
    require_perm(request, "accounts.add_contact")
    data = payload.dict()
    errors = resolve_collecting(data, {"account": Account})
    if errors:
        # Without its account a contact is still checked field by field, so every problem is named.
        data["account"] = Account(name="?")

    def write() -> Contact:
        contact = services.contact_create(acting_user=request.user, **data)
        ensure_created_in_scope(request.user, contact)
        return contact

    contact = with_reference_errors(errors, write)
    return Status(201, _contacts().get(pk=contact.pk))


@contacts_router.patch(
    "/{contact_id}",
    response={200: ContactOut, **PROBLEM_RESPONSES},
    summary="Update a contact",
    description="Changes only the fields sent; `roles`, when sent, replaces all roles.",
)
def update_contact(request: AuthenticatedHttpRequest, contact_id: Id, payload: ContactPatch) -> Contact:
    require_perm(request, "accounts.change_contact")
    contact = get_for_write(Contact, user=request.user, pk=contact_id)
    data = resolve_fields(payload.dict(exclude_unset=True), {"account": Account})
    roles = data.pop("roles", None)
    services.contact_update(acting_user=request.user, contact=contact, data=data, roles=roles)
    return _contacts().get(pk=contact.pk)


@contacts_router.delete("/{contact_id}", response={204: None, **PROBLEM_RESPONSES}, summary="Delete a contact")
def delete_contact(request: AuthenticatedHttpRequest, contact_id: Id) -> Status:
    require_perm(request, "accounts.delete_contact")
    services.contact_delete(
        acting_user=request.user, contact=get_for_write(Contact, user=request.user, action=Action.DELETE, pk=contact_id)
    )
    return Status(204, None)
