"""pytest plugin (``-p tandem.testing.env``): isolates TANDEM_HOME before Django is set up.

pytest-django configures Django before any conftest.py is imported, so this must be a plugin.
"""

from __future__ import annotations

import os
import tempfile

_home = tempfile.mkdtemp(prefix="tandem-test-")
os.environ["TANDEM_HOME"] = _home
os.environ.setdefault("TANDEM_SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
os.environ.pop("TANDEM_EVENTS_PATH", None)
