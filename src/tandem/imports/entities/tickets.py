"""Support tickets: upsert on external_id; the requester is a contact of the ticket's account."""

from __future__ import annotations

from typing import Any

from tandem.accounts.models import Contact
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
from tandem.imports.entities.contacts import account_ids_for
from tandem.imports.values import choice_parser, parse_datetime, parse_int
from tandem.support.models import Ticket, TicketPriority, TicketStatus
from tandem.support.services import ticket_bulk_upsert

COLUMNS = (
    Column("external_id", required=True, description="Your identifier; the upsert key."),
    Column("account_external_id", required=True, description="external_id of the account."),
    Column("subject", required=True),
    Column("priority", choice_parser(TicketPriority), description="low, normal (default), high, urgent."),
    Column("status", choice_parser(TicketStatus), description="new (default), open, pending, solved, closed."),
    Column("opened_at", parse_datetime, required=True, description="ISO 8601; no offset means UTC."),
    Column("closed_at", parse_datetime, description="ISO 8601; not before opened_at."),
    Column("satisfaction", parse_int, description="CSAT rating 1-5."),
    Column("requester_email", description="Email of a contact of the same account."),
)
SIMPLE = ("external_id", "subject", "priority", "status", "opened_at", "closed_at", "satisfaction")


class TicketPlan(Plan):
    def __init__(self) -> None:
        super().__init__()
        self.creates: list[Ticket] = []
        self.updates: list[Ticket] = []
        self.fields: list[str] = []

    def write(self, ctx: Context) -> None:
        ticket_bulk_upsert(
            acting_user=ctx.acting_user,
            creates=self.creates,
            updates=self.updates,
            fields=self.fields,
            now=ctx.now,
            progress=ctx.progress,
        )


def plan_tickets(rows: list[Row], ctx: Context) -> TicketPlan:
    plan = TicketPlan()
    plan.fields = [f for f in SIMPLE if ctx.has(f)] + ["account_id"]
    if ctx.has("requester_email"):
        plan.fields.append("contact_id")
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
            Ticket.objects.all(),
            "external_id",
            (r.values.get("external_id") for r in rows),
            *concrete_attnames(Ticket),
        )
    }
    contacts: dict[tuple[int, str], int] = {}
    if ctx.has("requester_email"):
        for v in fetch_in_chunks(
            Contact.objects.exclude(email="").order_by("id"),
            "account_id",
            account_ids.values(),
            "id",
            "account_id",
            "email",
        ):
            contacts.setdefault((v["account_id"], v["email"].lower()), v["id"])

    ctx.progress.stage("Validating tickets", len(rows))
    for row in rows:
        key = row.values.get("external_id")
        account_id = account_ids.get(row.values.get("account_external_id"))
        if key is None or account_id is None:
            continue
        desired: dict[str, Any] = {"account_id": account_id}
        copy_simple_fields(Ticket, row, ctx, SIMPLE, desired)
        if ctx.has("requester_email") and "requester_email" in row.values:
            email = row.values["requester_email"]
            desired["contact_id"] = contacts.get((account_id, email.lower())) if email else None
            if email and desired["contact_id"] is None:
                ctx.fail(
                    row,
                    "requester_email",
                    f"no contact with this email at account '{row.values['account_external_id']}'.",
                )
        stored = existing.get(key)
        instance = Ticket(**stored) if stored else Ticket()
        for attname, value in desired.items():
            setattr(instance, attname, value)
        clean_model(instance, row=row, ctx=ctx, fields=plain_fields(Ticket, desired))
        if not row.valid:
            continue
        if stored is None:
            plan.creates.append(instance)
            plan.created += 1
        elif differs(stored, desired):
            plan.updates.append(instance)
            plan.updated += 1
        else:
            plan.unchanged += 1
    ctx.progress.advance(len(rows))
    return plan


ENTITY = Entity(
    name="tickets",
    columns=COLUMNS,
    plan=plan_tickets,
    key_description="external_id",
)
