"""`tandem library install`: the shipped playbook library on a company without the demo."""

from __future__ import annotations

from typing import Annotated

import typer

library_app = typer.Typer(help="The shipped playbook library.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")


@library_app.command("install")
def install(
    language: Annotated[
        str | None, typer.Option(help="en, vi, ja, fa or zh-hans; the company's language (TANDEM_LANGUAGE) by default.")
    ] = None,
    without_metrics: Annotated[
        bool, typer.Option("--without-metrics", help="Leave out the default metrics and scorecards.")
    ] = False,
) -> None:
    """Install what is missing of the shipped library: metrics, scorecards, email templates, playbooks,
    a work pool and rules. Idempotent: what exists is kept as it is."""
    from tandem.cli.app import console, fail, setup_django

    setup_django()
    from tandem.core.errors import DomainError
    from tandem.playbooks.services import library_install

    try:
        report = library_install(acting_user=None, language=language, with_metrics=not without_metrics)
    except DomainError as exc:
        fail(str(exc), code=2)
        return
    created = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in report.created.items())
    console.print(f"Library installed in '{report.language}': created {created}.")
