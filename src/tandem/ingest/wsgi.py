"""The tracking API's hot path under `tandem serve`: /v1/<call> answered before Django.

Segment clients post thousands of batches a minute, and none of Django's middleware (sessions,
CSRF, locale, authentication, messages, htmx, static files) has anything to do for them: the write
key authenticates the call. ``with_tracking_fast_path`` wraps the Django WSGI application so that
``POST /v1/<call>`` goes straight to ``tracking_response`` (the same function the Django view
uses, so both answer alike) and everything else goes to Django. Messages are in the default
language (``LANGUAGE_CODE``), as for any caller that sends no language preference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core import signals
from django.utils import translation

from tandem.ingest.messages import MAX_BATCH_BYTES
from tandem.ingest.tracking import TrackingResponse, body_too_large, tracking_response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A compressed body is never larger than the decompressed limit plus gzip's framing; anything
# bigger is refused without reading it into memory.
MAX_BODY_BYTES = MAX_BATCH_BYTES + 64 * 1024


def with_tracking_fast_path(django_app: WSGIApp) -> WSGIApp:
    """A WSGI application that answers /v1/<call> itself and hands every other path to ``django_app``."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith("/v1/") or "/" in path[4:]:
            return django_app(environ, start_response)
        signals.request_started.send(sender=None, environ=environ)
        try:
            with translation.override(settings.LANGUAGE_CODE):
                answer = _answer(environ, call_type=path[4:])
        finally:
            signals.request_finished.send(sender=None)
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", [*headers, *answer.headers])
        return [answer.body]

    return application


def _answer(environ: dict[str, Any], *, call_type: str) -> TrackingResponse:
    method = environ.get("REQUEST_METHOD", "GET")
    raw = b""
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if length > MAX_BODY_BYTES:
            return body_too_large(MAX_BATCH_BYTES)
        raw = environ["wsgi.input"].read(length if length >= 0 else MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return body_too_large(MAX_BATCH_BYTES)
    return tracking_response(
        call_type=call_type,
        method=method,
        raw=raw,
        encoding=environ.get("HTTP_CONTENT_ENCODING", ""),
        authorization=environ.get("HTTP_AUTHORIZATION"),
    )
