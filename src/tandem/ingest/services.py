"""Writes of the ingest domain: write keys, and accounts/contacts from group and identify calls."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact, Tier
from tandem.accounts.services import account_create, account_update, contact_create, contact_update
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.ingest.models import Rejection, Source, TrackedUser

if TYPE_CHECKING:
    from tandem.users.models import User

KEY_PREFIX = "tdmw_"
REJECTIONS_KEPT = 50


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


@write_service
def source_create(*, acting_user: User | None, name: str) -> tuple[Source, str]:
    """Create a source and return it with its write key (shown once; only a hash is stored)."""
    name = name.strip()
    if not name:
        raise DomainError(_("A source needs a name."), [FieldError("name", _("This field is required."))])
    if len(name) > 100:
        raise DomainError(_("The name is too long."), [FieldError("name", _("At most 100 characters."))])
    if Source.objects.filter(name=name).exists():
        raise DomainError(
            _("A source named '%(name)s' already exists.") % {"name": name},
            [FieldError("name", _("Choose another name."))],
            status=409,
        )
    key = _new_key()
    source = Source.objects.create(name=name, key_prefix=key[:12], key_hash=_hash(key))
    return source, key


@write_service
def source_rotate(*, acting_user: User | None, source: Source) -> str:
    """Give the source a new write key; the old one stops working at once. Reactivates a revoked source."""
    key = _new_key()
    source.key_prefix, source.key_hash, source.revoked_at = key[:12], _hash(key), None
    source.save(update_fields=["key_prefix", "key_hash", "revoked_at", "updated_at"])
    transaction.on_commit(write_keys.clear)
    write_keys.clear()
    return key


@write_service
def source_revoke(*, acting_user: User | None, source: Source) -> Source:
    """Stop accepting the source's write key; its stored events stay."""
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at", "updated_at"])
    transaction.on_commit(write_keys.clear)
    write_keys.clear()
    return source


def source_authenticate(*, key: str) -> Source | None:
    """The active source with this write key, or None."""
    if not key:
        return None
    return Source.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).first()


class WriteKeyCache:
    """Write key hash -> active source id, remembered for ``ttl`` seconds (unknown keys too).

    The tracking API looks a key up on every call; this keeps the relational database off its hot
    path. Rotating or revoking a key in this process clears the cache at once; a change made by
    another process (``tandem sources revoke`` while the server runs) takes effect within ``ttl``.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def source_id(self, key: str) -> int | None:
        """The id of the active source with this write key, or None."""
        if not key:
            return None
        digest = _hash(key)
        now = time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > now:
            return entry[1]
        found = Source.objects.filter(key_hash=digest, revoked_at__isnull=True).values_list("pk", flat=True).first()
        with self._lock:
            if len(self._entries) > 10_000:  # keys guessed at random must not grow the cache without bound
                self._entries.clear()
            self._entries[digest] = (now + self.ttl, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


write_keys = WriteKeyCache()


def source_record_stats(
    *, source_id: int, accepted: int, rejected: int, last_received_at: Any, rejections: list[dict[str, Any]]
) -> None:
    """Add a drained chunk's counts to the source and keep its latest rejections."""
    Source.objects.filter(pk=source_id).update(
        received_count=F("received_count") + accepted,
        rejected_count=F("rejected_count") + rejected,
        last_received_at=last_received_at,
    )
    if rejections:
        Rejection.objects.bulk_create(
            [
                Rejection(
                    source_id=source_id,
                    received_at=r["received_at"],
                    message_id=(r.get("messageId") or "")[:200],
                    field=(r.get("field") or "")[:100],
                    reason=r["reason"][:500],
                )
                for r in rejections[-REJECTIONS_KEPT:]
            ]
        )
        stale = Rejection.objects.filter(source_id=source_id).order_by("-received_at", "-id")[REJECTIONS_KEPT:]
        Rejection.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()


# --- group and identify ---------------------------------------------------------------------------

TIER_WORDS = {
    "enterprise": Tier.ENTERPRISE,
    "mid_market": Tier.MID_MARKET,
    "midmarket": Tier.MID_MARKET,
    "mid-market": Tier.MID_MARKET,
    "smb": Tier.SMB,
    "small": Tier.SMB,
}


def _text(traits: dict[str, Any], *names: str, limit: int) -> str | None:
    for name in names:
        value = traits.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:limit]
    return None


def _domain(value: str) -> str:
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower())
    return value.split("/", 1)[0].removeprefix("www.")[:253]


@write_service
def account_upsert_from_group(
    *, acting_user: User | None, group_id: str, traits: dict[str, Any], user_id: str | None
) -> Account:
    """Create or update the account whose external_id is ``group_id`` and attach the user to it."""
    account = Account.objects.select_for_update().filter(external_id=group_id).first()
    changes: dict[str, Any] = {}
    name = _text(traits, "name", "company", limit=200)
    if name:
        changes["name"] = name
    website = _text(traits, "domain", "website", limit=300)
    if website:
        changes["domain"] = _domain(website)
    industry = _text(traits, "industry", limit=100)
    if industry:
        changes["industry"] = industry
    tier_word = _text(traits, "tier", "plan", limit=50)
    if tier_word and tier_word.lower().replace(" ", "_") in TIER_WORDS:
        changes["tier"] = TIER_WORDS[tier_word.lower().replace(" ", "_")]
    custom = _custom_traits("account", traits)
    if custom:
        current = account.traits if account is not None else {}
        differing = {k: v for k, v in custom.items() if current.get(k) != v}
        if differing:
            changes["traits"] = differing
    account = _account_write(acting_user=acting_user, account=account, group_id=group_id, changes=changes)
    if user_id:
        tracked, _created = TrackedUser.objects.get_or_create(user_id=user_id)
        if tracked.account_id != account.pk:
            tracked.account = account
            tracked.save(update_fields=["account", "updated_at"])
        _sync_contact(tracked)
    return account


@write_service
def contact_upsert_from_identify(
    *, acting_user: User | None, user_id: str, traits: dict[str, Any], group_id: str | None
) -> TrackedUser:
    """Remember the user's traits; create or update its contact once its account is known."""
    tracked, _created = TrackedUser.objects.select_for_update().get_or_create(user_id=user_id)
    tracked.traits = {**tracked.traits, **{k: v for k, v in traits.items() if v is not None}}
    if group_id:
        account = Account.objects.filter(external_id=group_id).first()
        if account is not None:
            tracked.account = account
    tracked.save()
    _sync_contact(tracked)
    return tracked


def _account_write(
    *, acting_user: User | None, account: Account | None, group_id: str, changes: dict[str, Any]
) -> Account:
    """Through the accounts app's services, so a tracked account keeps the rules of a form.

    The traits were cut to the fields' lengths and the groupId to the external id's when the
    message was accepted, so the account's validation has nothing left to refuse.
    """
    if account is None:
        return account_create(acting_user=acting_user, external_id=group_id, **{"name": group_id, **changes})
    changed = {f: v for f, v in changes.items() if f == "traits" or getattr(account, f) != v}
    return account_update(acting_user=acting_user, account=account, data=changed)


def _custom_traits(entity: str, traits: dict[str, Any]) -> dict[str, Any]:
    """The traits that name a custom field (by its key), as stored values; a value the field
    refuses is left out rather than refusing the call (the tracking API accepts what it can)."""
    from tandem.traits.selectors import trait_definitions
    from tandem.traits.values import trait_value

    definitions = trait_definitions(entity=entity)
    out: dict[str, Any] = {}
    for key, raw in traits.items():
        defn = definitions.get(str(key)) or definitions.get(_snake(str(key)))
        if defn is None:
            continue
        try:
            value = trait_value(defn, raw)
        except ValueError:
            continue
        if value is not None:
            out[defn.key] = value
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _contact_fields(traits: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    email = _text(traits, "email", limit=254)
    if email:
        try:
            validate_email(email)
            fields["email"] = email
        except ValidationError:
            pass
    first = _text(traits, "firstName", "first_name", limit=100)
    last = _text(traits, "lastName", "last_name", limit=100)
    name = _text(traits, "name", limit=201)
    if name and not (first or last):
        first, _sep, last = name.partition(" ")
    if first:
        fields["first_name"] = first[:100]
    if last:
        fields["last_name"] = last.strip()[:100]
    title = _text(traits, "title", "jobTitle", "job_title", limit=150)
    if title:
        fields["title"] = title
    return fields


def _sync_contact(tracked: TrackedUser) -> None:
    """Make the contact of a tracked user match its account and traits (external_id = userId)."""
    if tracked.account_id is None:
        return
    fields = _contact_fields(tracked.traits)
    contact = Contact.objects.filter(external_id=tracked.user_id).first()
    if contact is None and fields.get("email"):
        # A contact imported without an external id: adopt it rather than duplicating the person.
        contact = Contact.objects.filter(
            account_id=tracked.account_id, email__iexact=fields["email"], external_id__isnull=True
        ).first()
    try:
        if contact is None:
            if not (fields.get("email") or fields.get("first_name") or fields.get("last_name")):
                return  # a contact needs a name or an email; wait for an identify call with one
            contact = contact_create(
                acting_user=None,
                account=tracked.account,  # type: ignore[arg-type]  # account_id checked above
                external_id=tracked.user_id,
                first_name=fields.get("first_name", ""),
                last_name=fields.get("last_name", ""),
                email=fields.get("email", ""),
                title=fields.get("title", ""),
                traits=_custom_traits("contact", tracked.traits),
            )
        else:
            custom = {k: v for k, v in _custom_traits("contact", tracked.traits).items() if contact.traits.get(k) != v}
            if custom:
                fields = {**fields, "traits": custom}  # type: ignore[dict-item]
            contact = contact_update(
                acting_user=None,
                contact=contact,
                data={"external_id": tracked.user_id, "account": tracked.account, **fields},
            )
    except DomainError:
        # Another contact of the account has this email (or the traits are not a valid contact):
        # keep the user unlinked rather than duplicating a person.
        return
    if tracked.contact_id != contact.pk:
        tracked.contact = contact
        tracked.save(update_fields=["contact", "updated_at"])
