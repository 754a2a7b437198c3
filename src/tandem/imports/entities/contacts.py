"""Contacts: upsert on external_id, with stakeholder roles and one primary contact per account."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tandem.accounts.models import Account, Contact, ContactRole
from tandem.accounts.services import contact_bulk_upsert
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
from tandem.imports.values import parse_bool, parse_date, parse_language, parse_roles

COLUMNS = (
    Column("external_id", required=True, description="Your identifier; the upsert key."),
    Column("account_external_id", required=True, description="external_id of the account."),
    Column("first_name"),
    Column("last_name"),
    Column("email"),
    Column("phone"),
    Column("title"),
    Column("roles", parse_roles, description="Stakeholder roles separated by ';' or ','."),
    Column("is_primary", parse_bool, description="At most one primary contact per account."),
    Column("still_at_company", parse_bool, description="Default true."),
    Column("left_on", parse_date, description="Requires still_at_company false."),
    Column("language", parse_language, description="en, vi, ja, fa or zh-hans: a shared success plan's language."),
)
SIMPLE = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "is_primary",
    "still_at_company",
    "left_on",
    "language",
)


def account_ids_for(rows: list[Row], ctx: Context, field_name: str = "account_external_id") -> dict[str | None, int]:
    """Resolve account references in bulk; rows naming an unknown account get an error.

    Keyed by external_id; the key type admits the None of an empty cell, which finds nothing.
    """
    keys = {r.values.get(field_name) for r in rows} - {None}
    ids = {
        v["external_id"]: v["id"]
        for v in fetch_in_chunks(Account.objects.all(), "external_id", keys, "external_id", "id")
    }
    for row in rows:
        key = row.values.get(field_name)
        if key is not None and key not in ids:
            ctx.fail(row, field_name, f"no account with external_id '{key}'.")
    return ids


class ContactPlan(Plan):
    def __init__(self) -> None:
        super().__init__()
        self.creates: list[Contact] = []
        self.updates: list[Contact] = []
        self.fields: list[str] = []
        self.roles: dict[int, tuple[str, ...]] = {}  # id(instance) -> roles to store
        self.replace_roles: list[Contact] = []

    def write(self, ctx: Context) -> None:
        role_sets = [(c, self.roles.get(id(c), ())) for c in self.creates if self.roles.get(id(c))]
        role_sets += [(c, self.roles.get(id(c), ())) for c in self.replace_roles]
        contact_bulk_upsert(
            acting_user=ctx.acting_user,
            creates=self.creates,
            updates=self.updates,
            fields=self.fields,
            roles=role_sets,
            now=ctx.now,
            progress=ctx.progress,
        )


def plan_contacts(rows: list[Row], ctx: Context) -> ContactPlan:
    plan = ContactPlan()
    plan.fields = [f for f in SIMPLE if ctx.has(f)] + ["account_id"]
    mark_duplicates(
        rows,
        ctx,
        key=lambda r: r.values.get("external_id"),
        field_name="external_id",
        what="external_id",
    )
    account_ids = account_ids_for(rows, ctx)
    existing = {
        v["external_id"]: v
        for v in fetch_in_chunks(
            Contact.objects.all(),
            "external_id",
            (r.values.get("external_id") for r in rows),
            *concrete_attnames(Contact),
        )
    }
    stored_roles: dict[int, list[str]] = defaultdict(list)
    if ctx.has("roles"):
        for v in fetch_in_chunks(
            ContactRole.objects.all(),
            "contact_id",
            (v["id"] for v in existing.values()),
            "contact_id",
            "role",
        ):
            stored_roles[v["contact_id"]].append(v["role"])

    ctx.progress.stage("Validating contacts", len(rows))
    prepared: list[tuple[Row, Contact, dict[str, Any]]] = []
    for row in rows:
        key = row.values.get("external_id")
        account_id = account_ids.get(row.values.get("account_external_id"))
        if key is None or account_id is None:
            continue
        desired: dict[str, Any] = {"account_id": account_id}
        copy_simple_fields(Contact, row, ctx, SIMPLE, desired)
        stored = existing.get(key)
        instance = Contact(**stored) if stored else Contact()
        for attname, value in desired.items():
            setattr(instance, attname, value)
        clean_model(instance, row=row, ctx=ctx, fields=plain_fields(Contact, desired))
        prepared.append((row, instance, desired))
    ctx.progress.advance(len(rows))

    _check_primary(prepared, ctx, plan)
    _check_emails(prepared, ctx)

    for row, instance, desired in prepared:
        if not row.valid:
            continue
        stored = existing.get(instance.external_id)
        roles = row.values.get("roles") or ()
        plan.roles[id(instance)] = roles
        if stored is None:
            plan.creates.append(instance)
            plan.created += 1
            continue
        roles_changed = ctx.has("roles") and tuple(sorted(stored_roles[stored["id"]])) != roles
        if roles_changed:
            plan.replace_roles.append(instance)
        if roles_changed or differs(stored, desired):
            plan.updates.append(instance)
            plan.updated += 1
        else:
            plan.unchanged += 1
    return plan


def _name(values: dict[str, Any]) -> str:
    name = f"{values['first_name']} {values['last_name']}".strip() or values["email"]
    return f"{name} (external_id {values['external_id'] or 'none'})"


def _check_primary(prepared: list[tuple[Row, Contact, dict[str, Any]]], ctx: Context, plan: ContactPlan) -> None:
    """At most one primary contact per account in the file; a new primary takes over from the stored one.

    The same rule as a form or the API (``contact_bulk_upsert`` demotes the stored primary); the
    plan notes which accounts change primary so a dry run shows it.
    """
    claims: dict[int, list[Row]] = defaultdict(list)
    in_file: dict[str | None, Contact] = {}
    for row, contact, _desired in prepared:
        if row.valid:
            in_file[contact.external_id] = contact
            if contact.is_primary:
                claims[contact.account_id].append(row)
    for group in claims.values():
        if len(group) > 1:
            for row in group:
                others = ", ".join(str(r.number) for r in group if r is not row)
                ctx.fail(
                    row,
                    "is_primary",
                    _("an account has one primary contact; this file also makes row %(rows)s primary.")
                    % {"rows": others},
                )
    single = {account_id: group[0] for account_id, group in claims.items() if len(group) == 1}
    superseded = []
    for holder in fetch_in_chunks(
        Contact.objects.filter(is_primary=True),
        "account_id",
        single,
        "account_id",
        "external_id",
        "first_name",
        "last_name",
        "email",
    ):
        row = single[holder["account_id"]]
        if holder["external_id"] is not None and holder["external_id"] == row.values["external_id"]:
            continue
        override = in_file.get(holder["external_id"]) if holder["external_id"] is not None else None
        if override is not None and not (override.is_primary and override.account_id == holder["account_id"]):
            continue  # demoted or moved by this same file
        superseded.append(_name(holder))
    if superseded:
        shown = ", ".join(sorted(superseded)[:10]) + (", …" if len(superseded) > 10 else "")
        plan.notes.append(
            ngettext(
                "%(count)d account gets a new primary contact; no longer primary: %(names)s.",
                "%(count)d accounts get a new primary contact; no longer primary: %(names)s.",
                len(superseded),
            )
            % {"count": len(superseded), "names": shown}
        )


def _check_emails(prepared: list[tuple[Row, Contact, dict[str, Any]]], ctx: Context) -> None:
    """An email appears once per account (the database enforces it; say which rows clash)."""
    valid = [(row, c) for row, c, _desired in prepared if row.valid and c.email]
    by_row = {id(row): c for row, c in valid}
    mark_duplicates(
        [row for row, _contact in valid],
        ctx,
        key=lambda r: (by_row[id(r)].account_id, by_row[id(r)].email),
        field_name="email",
        what="email for the same account",
    )
    wanted = {(c.account_id, c.email): row for row, c in valid if row.valid}
    new_email = {c.external_id: (c.account_id, c.email) for _row, c, _desired in prepared}
    for holder in fetch_in_chunks(
        Contact.objects.exclude(email=""),
        "account_id",
        {account_id for account_id, _email in wanted},
        "account_id",
        "email",
        "external_id",
        "first_name",
        "last_name",
    ):
        pair = (holder["account_id"], holder["email"])
        row = wanted.get(pair)
        if row is None or holder["external_id"] == row.values["external_id"]:
            continue
        if holder["external_id"] in new_email and new_email[holder["external_id"]] != pair:
            continue  # that contact gets another email or account in this import
        ctx.fail(row, "email", f"the account already has a contact with this email: {_name(holder)}.")


ENTITY = Entity(
    name="contacts",
    columns=COLUMNS,
    plan=plan_contacts,
    key_description="external_id",
)
