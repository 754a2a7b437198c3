"""Production serving for `tandem serve` and `tandem demo`."""

from __future__ import annotations

import gc
import sys

from rich.console import Console

# Tuning for a server whose hot path is the tracking API (batches of ~100 KB, thousands of small
# objects per call), measured with benchmarks/bench_ingest.py (docs/performance.md):
# * the objects that exist after start-up (Django, the URL conf, templates) are frozen out of the
#   cyclic garbage collector and young collections run every 50,000 allocations instead of 700:
#   full collections over the whole heap held the GIL for long enough to set p99 latency;
# * waitress reads a request body in 256 KB slices rather than 8 KB ones, and threads hand the
#   GIL over every 2 ms instead of 5 ms, so the I/O thread is not queued behind request threads.
GC_THRESHOLDS = (50_000, 50, 100)
SWITCH_INTERVAL = 0.002
RECV_BYTES = 256 * 1024


def run_server(*, host: str, port: int, threads: int = 8, banner: str | None = None) -> None:
    from waitress import serve

    from tandem.ingest.ingestor import start_background_ingestor
    from tandem.ingest.wsgi import with_tracking_fast_path
    from tandem.wsgi import application

    console = Console()
    if banner:
        console.print(banner)
    console.print(f"Serving Tandem at [bold]http://{host}:{port}[/] (Ctrl-C to stop)")
    start_background_ingestor()  # drains tracking calls into the event store (docs/ingestion.md)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    # /v1/<call> (the Segment-compatible tracking API) skips Django's middleware: tandem.ingest.wsgi.
    try:
        serve(
            with_tracking_fast_path(application),
            host=host,
            port=port,
            threads=threads,
            recv_bytes=RECV_BYTES,
            ident="tandem",
            _quiet=True,
        )
    finally:
        # Frozen objects are never collected, not even at exit; DuckDB's bindings then report
        # every connection and type still alive as "leaked" on the way out.
        gc.unfreeze()
        gc.collect()
