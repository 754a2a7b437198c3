"""Top-level Typer application. Each command sets Django up lazily so ``tandem --help`` is instant."""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="tandem",
    help="Tandem: customer success and account management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django
    from django.conf import settings
    from django.utils import translation

    django.setup()
    from tandem.audit.context import set_process_via
    from tandem.audit.models import AuditVia

    # What a command changes is recorded as via "cli" unless a narrower path claims it (the job
    # runner of `tandem worker`, the rules engine, an import, the demo builder).
    set_process_via(AuditVia.CLI)
    # Commands write text that is stored (report titles, notification texts): always in the
    # configured language, never in whatever a previous request left active in this thread.
    translation.activate(settings.LANGUAGE_CODE)


def fail(message: str, code: int = 1) -> NoReturn:
    # soft_wrap: one message is one line, whatever the terminal's width (logs, scripts and tests read it).
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def migrate(quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Create or upgrade the database schema."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    from tandem.usage.eventstore import EventStore
    from tandem.usage.legacy import legacy_store_migrate

    copied = legacy_store_migrate(store=EventStore.for_settings())
    if copied is not None:
        console.print(
            f"Copied {copied:,} events from events.duckdb into the event store (the old file is kept as "
            "events.duckdb.migrated)."
        )


@app.command()
def createuser(
    username: str,
    email: Annotated[str, typer.Option(help="Email address.")] = "",
    role: Annotated[
        list[str],
        typer.Option("--role", "-r", help="admin, cs_manager, csm, account_manager or read_only; repeatable."),
    ] = [],  # noqa: B006
    password: Annotated[str | None, typer.Option(help="Password; prompted for when omitted.")] = None,
    first_name: Annotated[str, typer.Option("--first-name")] = "",
    last_name: Annotated[str, typer.Option("--last-name")] = "",
) -> None:
    """Create a user with one or more roles."""
    setup_django()
    from tandem.core.errors import DomainError
    from tandem.users.services import user_create

    if password is None:
        if not sys.stdin.isatty():
            fail("--password is required when not running interactively.")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = user_create(
            acting_user=None,
            username=username,
            password=password,
            email=email,
            first_name=first_name,
            last_name=last_name,
            roles=role,
        )
    except DomainError as exc:
        fail(str(exc), code=2)
    console.print(f"Created user [bold]{user.username}[/] with roles: {', '.join(role) or 'none'}")


@app.command()
def token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for a user and print it (shown once)."""
    setup_django()
    from tandem.users.models import User
    from tandem.users.services import api_token_create

    user = User.objects.filter(username=username).first()
    if user is None:
        fail(f"no user named '{username}'.", code=2)
    _token, secret = api_token_create(acting_user=None, user=user, name=name)
    console.print(secret)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 8,
) -> None:
    """Serve the web UI and API (waitress, a production WSGI server)."""
    setup_django()
    from tandem.web.server import ServeError, run_server

    try:
        run_server(host=host, port=port, threads=threads)
    except ServeError as exc:
        fail(str(exc))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (for example `tandem manage makemigrations`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    from django.core.management import execute_from_command_line

    from tandem.audit.context import set_process_via

    set_process_via("cli")  # AuditVia.CLI; the models cannot be imported before Django is set up
    execute_from_command_line(["tandem manage", *ctx.args])


def _register_subcommands() -> None:
    from tandem.cli import demo, imports

    demo.register(app)
    from tandem.cli import jobs as jobs_cli

    jobs_cli.register(app)
    imports.register(app)
    from tandem.cli import events as events_cli  # `import events`, `sources`, `ingest`

    events_cli.register(app)
    from tandem.cli import revenue as revenue_cli  # `revenue`, `retention`, `renewals`, `report`

    revenue_cli.register(app)
    from tandem.health import cli as health_cli  # `metrics`, `health`, `model` (issue #4)
    from tandem.metrics import cli as metrics_cli
    from tandem.risk import cli as risk_cli

    metrics_cli.register(app)
    from tandem.playbooks import cli as playbooks_cli  # `library install`

    playbooks_cli.register(app)
    health_cli.register(app)
    risk_cli.register(app)
    from tandem.maillog import cli as maillog_cli  # `mail serve`, `mail poll`, `mail address`

    maillog_cli.register(app)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
