"""The API fixtures of tests/backend/api, shared by the hardening tests."""

from tests.backend.api.conftest import api  # noqa: F401
