"""Production serving for `tandem serve` and `tandem demo`."""

from __future__ import annotations

from rich.console import Console


def run_server(*, host: str, port: int, threads: int = 8, banner: str | None = None) -> None:
    from waitress import serve

    from tandem.ingest.ingestor import start_background_ingestor
    from tandem.wsgi import application

    console = Console()
    if banner:
        console.print(banner)
    console.print(f"Serving Tandem at [bold]http://{host}:{port}[/] (Ctrl-C to stop)")
    start_background_ingestor()  # drains tracking calls into the event store (docs/ingestion.md)
    serve(application, host=host, port=port, threads=threads, ident="tandem", _quiet=True)
