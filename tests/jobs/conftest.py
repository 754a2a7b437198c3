from tests.playbooks.conftest import smtp  # noqa: F401 - shared fixture
