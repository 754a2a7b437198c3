"""`tandem mail serve | poll | address`: the SMTP receiver, IMAP polling, a user's BCC address."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    mail_app = typer.Typer(help="Email logging: receive BCC'd mail (SMTP or IMAP).", no_args_is_help=True)
    app.add_typer(mail_app, name="mail")

    @mail_app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(help="Port to listen on (25 behind MX, or any with a forwarding relay).")
        ] = 2525,
    ) -> None:
        """Run the SMTP receiver for BCC addresses; a worker parses what it accepts."""
        from tandem.cli.app import console, setup_django

        setup_django()
        from tandem.maillog.smtp import start_receiver

        controller = start_receiver(host, port)
        console.print(f"SMTP receiver listening on {host}:{port}", soft_wrap=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_a: stop.set())
        signal.signal(signal.SIGINT, lambda *_a: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()

    @mail_app.command("poll")
    def poll(
        queue: Annotated[bool, typer.Option("--queue", help="Queue the poll for a worker instead.")] = False,
    ) -> None:
        """Read unseen mail from the IMAP mailbox (TANDEM_MAIL_IMAP_*) now."""
        from tandem.cli.app import console, fail, setup_django

        setup_django()
        from django.conf import settings

        if queue:
            from tandem.jobs.services import job_enqueue

            job_enqueue(name="maillog.poll")
            console.print("queued an IMAP poll")
            return
        if not settings.TANDEM_MAIL_IMAP_HOST:
            fail("TANDEM_MAIL_IMAP_HOST is not set")
        from tandem.maillog.imap import poll_mailbox

        console.print(f"read {poll_mailbox()} messages")

    @mail_app.command("address")
    def address(username: str) -> None:
        """Print a user's BCC address (created on first use)."""
        from tandem.cli.app import console, fail, setup_django

        setup_django()
        from tandem.maillog.services import mail_address_ensure
        from tandem.users.models import User

        user = User.objects.filter(username=username).first()
        if user is None:
            fail(f"no user named {username!r}")
        console.print(mail_address_ensure(acting_user=None, user=user).address, soft_wrap=True)
