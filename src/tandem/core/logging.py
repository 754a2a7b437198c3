"""Logging filters for the server log (settings.LOGGING)."""

from __future__ import annotations

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """Keep ``django.request``'s one-line warning for a 4xx response, without the exception's traceback.

    Django logs a refused request ("Forbidden (Permission denied): /path") with the PermissionDenied
    (or Http404) that the view raised as ``exc_info``, so every 403 printed a traceback to the server
    log although nothing went wrong. A 5xx keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.name.startswith("django.request") and isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
