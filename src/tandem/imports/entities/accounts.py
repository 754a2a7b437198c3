"""Accounts: upsert on external_id; parents may be earlier, later or already stored accounts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model

from tandem.accounts.models import Account, LifecycleStage, Tier
from tandem.accounts.services import account_bulk_upsert
from tandem.imports.entities.base import (
    Column,
    Context,
    Entity,
    Plan,
    Row,
    clean_model,
    concrete_attnames,
    copy_simple_fields,
    differs,
    fetch_in_chunks,
    mark_duplicates,
    plain_fields,
)
from tandem.imports.values import choice_parser, parse_country, parse_currency, parse_date

COLUMNS = (
    Column("external_id", required=True, description="Your identifier; the upsert key."),
    Column("name", required=True),
    Column("domain"),
    Column("crm_id", description="Unique when set."),
    Column("billing_id", description="Unique when set."),
    Column("industry"),
    Column("country", parse_country, description="ISO alpha-2 code or English name."),
    Column("currency", parse_currency, description="ISO 4217 code; default USD."),
    Column("tier", choice_parser(Tier), description="enterprise, mid_market, smb (default)."),
    Column("lifecycle_stage", choice_parser(LifecycleStage), description="Default onboarding."),
    Column("parent_external_id", description="external_id of the parent account."),
    Column("csm_owner", description="Username or email of an existing user."),
    Column("am_owner", description="Username or email of an existing user."),
    Column("start_date", parse_date, description="Customer since (YYYY-MM-DD)."),
)
SIMPLE = (
    "external_id",
    "name",
    "domain",
    "crm_id",
    "billing_id",
    "industry",
    "country",
    "currency",
    "tier",
    "lifecycle_stage",
    "start_date",
)
OWNERS = {"csm_owner": "csm_owner_id", "am_owner": "am_owner_id"}
ATTNAME = {**{f: f for f in SIMPLE}, **OWNERS, "parent_external_id": "parent_id"}
FIELD_FOR = {"parent": "parent_external_id", "csm_owner": "csm_owner", "am_owner": "am_owner"}


class UserLookup:
    """Users by username, or by email case-insensitively; loaded once (users are few)."""

    def __init__(self) -> None:
        self.by_username: dict[str, int] = {}
        self.by_email: dict[str, list[int]] = defaultdict(list)
        for pk, username, email in get_user_model().objects.values_list("id", "username", "email"):
            self.by_username[username] = pk
            if email:
                self.by_email[email.lower()].append(pk)

    def resolve(self, value: str) -> int:
        if value in self.by_username:
            return self.by_username[value]
        matches = self.by_email.get(value.lower(), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(f"'{value}' is the email of {len(matches)} users; use a username.")
        raise ValueError(f"no user with username or email '{value}'.")


class AccountPlan(Plan):
    def __init__(self) -> None:
        super().__init__()
        self.creates: list[Account] = []
        self.updates: list[Account] = []
        self.fields: list[str] = []
        # Accounts whose parent is created by this same import: external_id -> parent's.
        self.pending_parent: dict[str | None, str] = {}

    def write(self, ctx: Context) -> None:
        account_bulk_upsert(
            acting_user=ctx.acting_user,
            creates=self.creates,
            updates=self.updates,
            fields=self.fields,
            new_parent_of=self.pending_parent,
            now=ctx.now,
            progress=ctx.progress,
        )


def plan_accounts(rows: list[Row], ctx: Context) -> AccountPlan:
    plan = AccountPlan()
    plan.fields = [ATTNAME[f] for f in ATTNAME if ctx.has(f)]
    ext = {id(row): row.values.get("external_id") for row in rows}
    mark_duplicates(rows, ctx, key=lambda r: ext[id(r)], field_name="external_id", what="external_id")
    for unique in ("crm_id", "billing_id"):

        def value_of(r: Row, f: str = unique) -> Any:
            return r.values.get(f)

        mark_duplicates(rows, ctx, key=value_of, field_name=unique, what=unique)

    file_keys = {k for k in ext.values() if k}
    existing = {
        values["external_id"]: values
        for values in fetch_in_chunks(Account.objects.all(), "external_id", file_keys, *concrete_attnames(Account))
    }
    parent_keys = {r.values.get("parent_external_id") for r in rows} - {None}
    stored_ids = {
        v["external_id"]: v["id"]
        for v in fetch_in_chunks(Account.objects.all(), "external_id", parent_keys, "external_id", "id")
    }
    stored_ids.update({k: v["id"] for k, v in existing.items()})
    _check_unique_ids_against_db(rows, ctx, existing)
    users = UserLookup() if ctx.has("csm_owner") or ctx.has("am_owner") else None

    ctx.progress.stage("Validating accounts", len(rows))
    instances: dict[int, Account] = {}
    desired_by_row: dict[int, dict[str, Any]] = {}
    for count, row in enumerate(rows, 1):
        if count % 1000 == 0:
            ctx.progress.advance(1000)
        key = row.values.get("external_id")
        if key is None:
            continue
        desired: dict[str, Any] = {}
        copy_simple_fields(Account, row, ctx, SIMPLE, desired)
        for column, attname in OWNERS.items():
            if ctx.has(column) and column in row.values:
                value = row.values[column]
                try:
                    desired[attname] = users.resolve(value) if users and value else None
                except ValueError as exc:
                    ctx.fail(row, column, str(exc))
        if ctx.has("parent_external_id") and "parent_external_id" in row.values:
            parent_key = row.values["parent_external_id"]
            desired["parent_id"] = None
            if parent_key == key:
                ctx.fail(row, "parent_external_id", "an account cannot be its own parent.")
            elif parent_key in file_keys and parent_key not in existing:
                plan.pending_parent[key] = parent_key
            elif parent_key in stored_ids:
                desired["parent_id"] = stored_ids[parent_key]
            elif parent_key is not None:
                ctx.fail(
                    row,
                    "parent_external_id",
                    f"no account with external_id '{parent_key}' in the database or this file.",
                )
        stored = existing.get(key)
        instance = Account(**stored) if stored else Account()
        for attname, value in desired.items():
            setattr(instance, attname, value)
        # Account.clean() walks the parent chain with a query per level; _check_cycles does it
        # in memory for every row at once instead. Country is left out because CountryField
        # re-lists all 250 countries per call (2 ms a row); parse_country checked the same list.
        clean_model(
            instance,
            row=row,
            ctx=ctx,
            fields=[f for f in plain_fields(Account, desired) if f != "country"],
            run_clean=False,
            field_for=FIELD_FOR,
        )
        instances[id(row)] = instance
        desired_by_row[id(row)] = desired
    ctx.progress.advance(len(rows) % 1000)

    if ctx.has("parent_external_id"):
        _check_cycles(rows, ctx, existing, stored_ids)
        _reject_children_of_invalid_parents(rows, ctx, existing)

    for row in rows:
        if not row.valid:
            plan.pending_parent.pop(row.values.get("external_id"), None)
            continue
        instance = instances[id(row)]
        stored = existing.get(row.values["external_id"])
        if stored is None:
            plan.creates.append(instance)
            plan.created += 1
        elif instance.external_id in plan.pending_parent or differs(stored, desired_by_row[id(row)]):
            plan.updates.append(instance)
            plan.updated += 1
        else:
            plan.unchanged += 1
    return plan


def _check_unique_ids_against_db(rows: list[Row], ctx: Context, existing: dict[str | None, dict[str, Any]]) -> None:
    """crm_id / billing_id already held by an account that this file does not give a new one."""
    new_value_by_key = {
        unique: {r.values.get("external_id"): r.values.get(unique) for r in rows} for unique in ("crm_id", "billing_id")
    }
    for unique in ("crm_id", "billing_id"):
        if not ctx.has(unique):
            continue
        # A value the account already holds is its own; only new values can clash.
        wanted = {
            r.values[unique]: r
            for r in rows
            if r.values.get(unique) and existing.get(r.values.get("external_id"), {}).get(unique) != r.values[unique]
        }
        for holder in fetch_in_chunks(Account.objects.all(), unique, wanted, unique, "external_id", "name"):
            row = wanted[holder[unique]]
            holder_key = holder["external_id"]
            if holder_key == row.values.get("external_id"):
                continue
            in_file = holder_key is not None and holder_key in new_value_by_key[unique]
            if in_file and new_value_by_key[unique][holder_key] != holder[unique]:
                continue  # the holder gets another value in this same import
            ctx.fail(
                row,
                unique,
                f"{unique} is already used by account '{holder['name']}' (external_id {holder_key or 'none'}).",
            )


def _check_cycles(
    rows: list[Row], ctx: Context, existing: dict[str, dict[str, Any]], stored_ids: dict[str, int]
) -> None:
    """Reject parent links that would make an account its own ancestor (stored links included)."""

    def node(key: str) -> int | str:
        return existing[key]["id"] if key in existing else f"new:{key}"

    parent_of: dict[int | str, int | str] = dict(
        Account.objects.filter(parent__isnull=False).values_list("id", "parent_id")
    )
    linked: list[tuple[Row, int | str]] = []
    for row in rows:
        key = row.values.get("external_id")
        if key is None or "parent_external_id" not in row.values:
            continue
        me = node(key)
        parent_key = row.values["parent_external_id"]
        if parent_key is None or parent_key == key:
            parent_of.pop(me, None)
            continue
        parent_of[me] = stored_ids.get(parent_key) or f"new:{parent_key}"
        linked.append((row, me))
    for row, me in linked:
        seen: set[int | str] = set()
        current = parent_of.get(me)
        while current is not None and current not in seen:
            if current == me:
                ctx.fail(
                    row,
                    "parent_external_id",
                    "this parent would make the account its own ancestor.",
                )
                break
            seen.add(current)
            current = parent_of.get(current)


def _reject_children_of_invalid_parents(rows: list[Row], ctx: Context, existing: dict[str, dict[str, Any]]) -> None:
    """A parent that exists only as an invalid row of this file will not be created."""
    by_key = {r.values.get("external_id"): r for r in rows if r.values.get("external_id")}
    changed = True
    while changed:
        changed = False
        for row in rows:
            parent_key = row.values.get("parent_external_id")
            parent_row = by_key.get(parent_key)
            if (
                row.valid
                and parent_row is not None
                and parent_row is not row
                and not parent_row.valid
                and parent_key not in existing
            ):
                ctx.fail(
                    row,
                    "parent_external_id",
                    f"the parent account is not imported: row {parent_row.number} is invalid.",
                )
                changed = True


ENTITY = Entity(
    name="accounts",
    columns=COLUMNS,
    plan=plan_accounts,
    key_description="external_id",
)
