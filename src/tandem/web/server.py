"""Production serving for `tandem serve` and `tandem demo`.

The server runs waitress's event loop itself (``create_server`` and a loop of our own rather than
``waitress.serve``) so that it can stop gracefully: waitress has no graceful shutdown (on Ctrl-C
its loop is torn down while request threads still hand their output to it, Pylons/waitress#198
and #499). On SIGTERM or SIGINT (Ctrl-C) ``run_server``

1. closes the listening socket (the port is free at once, no new connection is accepted) and
   closes idle keep-alive connections;
2. keeps the loop running until the requests in progress are answered and flushed (at most
   ``SHUTDOWN_GRACE_SECONDS``), then stops the request threads;
3. stops the background ingestor and drains the inbox once, so every tracking call answered with
   200 is in the event store before the process exits (docs/ingestion.md).

A second signal while stopping gives up waiting (KeyboardInterrupt): nothing is lost, the calls
still wait in the inbox for the next start or ``tandem ingest drain``.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from rich.console import Console
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer

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
# How long a stopping server waits for requests in progress, and then for its request threads.
# Tracking calls take milliseconds; process managers usually allow 10 s between SIGTERM and SIGKILL.
SHUTDOWN_GRACE_SECONDS = 5.0
# While stopping, the loop polls this often to notice finished requests.
_STOPPING_POLL_SECONDS = 0.05


class ServeError(Exception):
    """The server could not start or stop cleanly; the message is for the user (one line)."""


def bind_error_message(*, host: str, port: int, error: OSError) -> str:
    """One translated line that says why listening on host:port failed."""
    from django.utils.translation import gettext as _

    if error.errno == errno.EADDRINUSE:
        return _("Port %(port)s on %(host)s is already in use; stop the other server or pass --port.") % {
            "port": port,
            "host": host,
        }
    reason = error.strerror or str(error)
    return _("Cannot listen on %(host)s port %(port)s: %(reason)s.") % {"host": host, "port": port, "reason": reason}


def check_port(*, host: str, port: int) -> None:
    """Raise ServeError when host:port cannot be listened on now (before a long build that serves)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ServeError(bind_error_message(host=host, port=port, error=exc)) from exc
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            # Waitress sets SO_REUSEADDR too: a port in TIME_WAIT is free for it, so it is here.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise ServeError(bind_error_message(host=host, port=port, error=exc)) from exc


class _WakeUp(wasyncore.dispatcher):
    """The loop's end of the socket signals are written to: reads and discards the bytes."""

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        with contextlib.suppress(OSError):
            self.recv(512)


class StopSignal:
    """SIGTERM and SIGINT ask the serving loop to stop; a second one gives up (KeyboardInterrupt).

    The handler only sets a flag: it runs between two bytecodes of the loop thread, so it must not
    touch waitress's state (or the lock of its trigger). The loop still wakes at once: the signal
    is also written to a socket the loop polls (``signal.set_wakeup_fd``), so the poll returns.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}
        self._previous_wakeup = -1
        self._sockets: tuple[socket.socket, socket.socket] | None = None

    def install(self, smap: dict[int, Any]) -> None:
        """Handle the signals; the wake-up socket joins the loop's map ``smap``."""
        # Signal handlers can only be set from the main thread (tests may serve from another one).
        if threading.current_thread() is not threading.main_thread():
            return
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._sockets = (reader, writer)
        _WakeUp(reader, map=smap)
        self._previous_wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if self._sockets is not None:
            signal.set_wakeup_fd(self._previous_wakeup)
            for sock in self._sockets:
                sock.close()
            self._sockets = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def run_server(*, host: str, port: int, threads: int = 8, banner: str | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop gracefully (module docstring); ServeError when it cannot."""
    from django.conf import settings
    from django.utils.translation import gettext as _
    from waitress.server import create_server  # what ``waitress.create_server`` re-exports

    from tandem.ingest.ingestor import start_background_ingestor
    from tandem.ingest.wsgi import with_tracking_fast_path
    from tandem.wsgi import application

    console = Console()
    try:
        # /v1/<call> (the Segment-compatible tracking API) skips Django's middleware: tandem.ingest.wsgi.
        server = create_server(
            with_tracking_fast_path(application),
            host=host,
            port=port,
            threads=threads,
            recv_bytes=RECV_BYTES,
            ident="tandem",
        )
    except OSError as exc:  # bound in the constructor: a busy port, an address not on this machine
        raise ServeError(bind_error_message(host=host, port=port, error=exc)) from exc
    stop = StopSignal()
    stop.install(_socket_map(server))
    if banner:
        console.print(banner)
    console.print(
        _("Serving Tandem at %(url)s (Ctrl-C to stop)") % {"url": f"[bold]http://{host}:{port}[/]"}, soft_wrap=True
    )
    start_background_ingestor()  # drains tracking calls into the event store (docs/ingestion.md)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        serve_until_stopped(server, stop, on_stop=lambda: console.print(_stopping_message(), soft_wrap=True))
    finally:
        stop.restore()
        # Frozen objects are never collected, not even at exit; DuckDB's bindings then report
        # every connection and type still alive as "leaked" on the way out.
        gc.unfreeze()
        gc.collect()
    if settings.TANDEM_INGEST_BACKGROUND:
        console.print(store_inbox(), soft_wrap=True)


def _stopping_message() -> str:
    from django.utils.translation import gettext as _

    return _("Stopping: no new connections; finishing the requests in progress.")


def serve_until_stopped(server: Any, stop: StopSignal, *, on_stop: Callable[[], None] | None = None) -> None:
    """Run waitress's loop until ``stop.requested``, then close gracefully (module docstring)."""
    smap = _socket_map(server)
    adj = server.adj
    try:
        while not stop.requested:
            wasyncore.loop(timeout=adj.asyncore_loop_timeout, map=smap, use_poll=adj.asyncore_use_poll, count=1)
        if on_stop is not None:
            on_stop()
        _close_listeners(smap)
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        while _finish_channels(smap) and time.monotonic() < deadline:
            wasyncore.loop(timeout=_STOPPING_POLL_SECONDS, map=smap, use_poll=adj.asyncore_use_poll, count=1)
    finally:
        _close_listeners(smap)
        # Threads are idle by now (or past the grace period): stop them, cancel what never started.
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=SHUTDOWN_GRACE_SECONDS)
        wasyncore.close_all(smap)  # the remaining connections and the loop's trigger


def _socket_map(server: Any) -> dict[int, Any]:
    # One listening socket: the server is a dispatcher with its own map; several (a host name that
    # resolves to IPv4 and IPv6): a MultiSocketServer that holds the shared map.
    smap = server.map if isinstance(server, MultiSocketServer) else server._map
    assert isinstance(smap, dict)  # create_server always gives one (the stubs say any Mapping, or None)
    return smap


def _close_listeners(smap: dict[int, Any]) -> None:
    for obj in list(smap.values()):
        if isinstance(obj, BaseWSGIServer):
            # The dispatcher's close, not the server's: that one also closes the trigger, which
            # request threads still pull to hand their responses to the loop.
            wasyncore.dispatcher.close(obj)


def _finish_channels(smap: dict[int, Any]) -> bool:
    """Mark idle connections for closing; True while any connection is still open."""
    open_channels = False
    for obj in list(smap.values()):
        if not isinstance(obj, HTTPChannel):
            continue
        open_channels = True
        # A request being read, waiting or running, or a response not yet flushed, is in flight.
        busy = bool(obj.requests) or obj.request is not None or bool(obj.total_outbufs_len)
        if not busy:
            obj.will_close = True  # closed by the loop's next pass
    return open_channels


def store_inbox() -> str:
    """Stop the background ingestor and drain the inbox once; a line saying what was stored."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from tandem.ingest.ingestor import background, drain

    background.stop(timeout=SHUTDOWN_GRACE_SECONDS)
    try:
        result = drain()  # waits for a drain the thread may still be running (one lock)
    except Exception as exc:
        raise ServeError(
            _(
                "Stopped, but the tracking calls waiting in the inbox could not be stored (%(error)s); "
                "they are kept, and `tandem ingest drain` or the next `tandem serve` stores them."
            )
            % {"error": exc}
        ) from exc
    if result.calls == 0:
        return _("Stopped. No tracking call was waiting in the inbox.")
    return ngettext(
        "Stopped. %(count)s tracking call that was waiting in the inbox is now in the event store.",
        "Stopped. %(count)s tracking calls that were waiting in the inbox are now in the event store.",
        result.calls,
    ) % {"count": result.calls}
