"""End-to-end fixtures: the real backend (``cer-backend serve``) as a separate process.

These tests run in the Home Assistant 2024.3 environment (the integration's code, HA's test
harness) and start the backend from its own environment, named by ``CER_E2E_BACKEND`` (the
path of the ``cer-backend`` executable; ``scripts/test-e2e`` sets it). The backend keeps its
SQLite database in a temporary folder, with the example community imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.serve import ServedBackend

REPO = Path(__file__).resolve().parents[2]
COMMUNITY_FILE = REPO / "examples" / "comune" / "community.yaml"
SITE_POD = "IT001E00000101"
OTHER_POD = "IT001E00000102"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/cer_community."""


@dataclass
class Backend(ServedBackend):
    """A real backend process on 127.0.0.1 with the example community, stopped and started
    at will."""

    site_token: str = ""
    viewer_token: str = ""
    community_id: str = ""

    def prepare(self) -> None:
        """Import the example community and make a site and a viewer token."""
        self.community_id = self.command("community", "import", str(COMMUNITY_FILE))
        self.site_token = self.command(
            "token", "create", "--role", "site", "--community", self.community_id,
            "--pod", SITE_POD,
        )  # fmt: skip
        self.viewer_token = self.command(
            "token", "create", "--role", "viewer", "--community", self.community_id
        )


@pytest.fixture
def backend(tmp_path: Path, socket_enabled: None) -> Iterator[Backend]:
    """A prepared, not yet started, real backend."""
    executable = os.environ.get("CER_E2E_BACKEND")
    if not executable:
        pytest.fail(
            "CER_E2E_BACKEND is not set: run the end-to-end tests with scripts/test-e2e, "
            "which builds the backend environment and points this variable at cer-backend"
        )
    server = Backend(tmp_path / "backend", executable=executable)
    server.prepare()
    try:
        yield server
    finally:
        server.stop()
