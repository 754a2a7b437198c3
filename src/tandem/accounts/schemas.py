"""API schemas for accounts and contacts: separate input, partial-update and output shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast

from django_countries.fields import Country
from ninja import Field, FilterLookup, FilterSchema, Schema

from tandem.access.shortcuts import HIDDEN_NOTE, MaskedDecimal
from tandem.accounts.models import Account, Contact, LifecycleStage, StakeholderRole, Tier
from tandem.api.refs import USER_REF_NOTE, Id, ReportsReferences, UserRef

# What the references of a request are checked against when the request also has other errors.
ACCOUNT_REFERENCES = {"parent": "accounts.Account", "csm_owner": "user", "am_owner": "user"}
CONTACT_REFERENCES = {"account": "accounts.Account"}

# --- Accounts ----------------------------------------------------------------------------------


class AccountIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = ACCOUNT_REFERENCES

    name: str = Field(..., max_length=200, examples=["Acme Corp"])
    domain: str = Field("", examples=["acme.example"])
    external_id: str | None = Field(None, description="Your own identifier; unique.")
    crm_id: str | None = Field(None, description="Identifier in your CRM; unique.")
    billing_id: str | None = Field(None, description="Identifier in your billing system; unique.")
    industry: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2 code, e.g. `DE`.")
    currency: str = Field("USD", description="ISO 4217 code the customer is billed in.")
    tier: Tier = Tier.SMB
    lifecycle_stage: LifecycleStage = LifecycleStage.ONBOARDING
    parent: Id | None = Field(None, description="Id of the parent account.")
    csm_owner: UserRef | None = Field(None, description="The customer success manager: " + USER_REF_NOTE)
    am_owner: UserRef | None = Field(None, description="The account manager: " + USER_REF_NOTE)
    start_date: dt.date | None = Field(None, description="Customer since.")
    traits: dict[str, Any] = Field(
        default_factory=dict, description="Custom fields by key (Settings → Custom fields); each value as its type."
    )


class AccountPatch(ReportsReferences):
    """Only the fields sent are changed; ``null`` clears an optional field."""

    references: ClassVar[Mapping[str, str]] = ACCOUNT_REFERENCES

    name: str | None = Field(None, max_length=200)
    domain: str | None = None
    external_id: str | None = None
    crm_id: str | None = None
    billing_id: str | None = None
    industry: str | None = None
    country: str | None = None
    currency: str | None = None
    tier: Tier | None = None
    lifecycle_stage: LifecycleStage | None = None
    parent: Id | None = None
    csm_owner: UserRef | None = Field(None, description=USER_REF_NOTE)
    am_owner: UserRef | None = Field(None, description=USER_REF_NOTE)
    start_date: dt.date | None = None
    traits: dict[str, Any] | None = Field(
        None, description='Only the custom fields sent change; null or "" clears one.'
    )
    archived: bool | None = Field(None, description="`true` archives the account, `false` brings it back.")


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    external_id: str | None
    crm_id: str | None
    billing_id: str | None
    industry: str
    country: str
    currency: str
    tier: Tier
    lifecycle_stage: LifecycleStage
    parent: int | None = Field(..., alias="parent_id")
    csm_owner: int | None = Field(..., alias="csm_owner_id")
    am_owner: int | None = Field(..., alias="am_owner_id")
    start_date: dt.date | None
    traits: dict[str, Any]
    mrr: MaskedDecimal = Field(..., description="Monthly recurring revenue in the reporting currency; " + HIDDEN_NOTE)
    arr: MaskedDecimal = Field(..., description="Annual recurring revenue in the reporting currency; " + HIDDEN_NOTE)
    renewal_date: dt.date | None = Field(..., description="Next renewal of a current subscription.")
    archived_at: dt.datetime | None = Field(None, description="When the account was archived; null while live.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_country(obj: Account) -> str:
        # django-stubs types a CharField subclass's value as str; a CountryField's value is a Country.
        return cast(Country, obj.country).code or ""


class AccountFilter(FilterSchema):
    q: Annotated[
        str | None,
        FilterLookup(["name__icontains", "domain__icontains", "external_id__icontains"]),
    ] = Field(None, description="Search in name, domain and external id.")
    external_id: str | None = None
    tier: Tier | None = None
    lifecycle_stage: LifecycleStage | None = None
    country: Annotated[str | None, FilterLookup("country__iexact")] = None
    csm_owner: Id | None = None
    am_owner: Id | None = None
    parent: Id | None = None
    updated_since: Annotated[dt.datetime | None, FilterLookup("updated_at__gte")] = None
    # Read by the selector (accounts_visible), like the accounts page's "Archived" filter.
    archived: Literal["archived", "all"] | None = Field(
        None,
        description="Archived accounts are left out unless asked for: `archived` lists only them, "
        "`all` lists live and archived accounts.",
    )


ContactLanguage = Literal["", "en", "vi", "ja", "fa", "zh-hans"]
AccountOrdering = Literal["name", "-name", "arr", "-arr", "renewal_date", "-renewal_date", "updated_at", "-updated_at"]


# --- Contacts ----------------------------------------------------------------------------------


class ContactIn(ReportsReferences):
    references: ClassVar[Mapping[str, str]] = CONTACT_REFERENCES

    account: Id
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""
    is_primary: bool = Field(False, description="Making a contact primary unsets the previous one.")
    still_at_company: bool = True
    left_on: dt.date | None = None
    external_id: str | None = None
    roles: list[StakeholderRole] = Field(default_factory=list)
    language: ContactLanguage = Field(
        "", description="The language of a success plan shared with them; empty: the company's."
    )
    traits: dict[str, Any] = Field(
        default_factory=dict, description="Custom fields by key (Settings → Custom fields); each value as its type."
    )


class ContactPatch(ReportsReferences):
    """Only the fields sent are changed; ``roles`` replaces all stakeholder roles."""

    references: ClassVar[Mapping[str, str]] = CONTACT_REFERENCES

    account: Id | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    is_primary: bool | None = None
    still_at_company: bool | None = None
    left_on: dt.date | None = None
    external_id: str | None = None
    roles: list[StakeholderRole] | None = None
    language: ContactLanguage | None = None
    traits: dict[str, Any] | None = Field(
        None, description='Only the custom fields sent change; null or "" clears one.'
    )


class ContactOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    external_id: str | None
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    title: str
    is_primary: bool
    still_at_company: bool
    left_on: dt.date | None
    language: str
    traits: dict[str, Any]
    roles: list[StakeholderRole]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_roles(obj: Contact) -> list[str]:
        return sorted(r.role for r in obj.roles.all())


class ContactFilter(FilterSchema):
    account: Id | None = None
    email: Annotated[str | None, FilterLookup("email__iexact")] = None
    role: Annotated[StakeholderRole | None, FilterLookup("roles__role")] = None
    still_at_company: bool | None = None
    external_id: str | None = None
