"""Worker jobs of email logging (thin: the services and the IMAP poller do the work)."""

from __future__ import annotations

from tandem.maillog.models import InboundMessage
from tandem.maillog.services import inbound_process


def ingest(*, inbound_id: int) -> str:
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None:
        return "gone"
    return inbound_process(acting_user=None, inbound=inbound)


def poll() -> int:
    from tandem.maillog.imap import poll_mailbox

    return poll_mailbox()
