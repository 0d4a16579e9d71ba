"""End-to-end fixtures: the real backend (``cer-backend serve``) as a separate process.

These tests run in the Home Assistant 2024.3 environment (the integration's code, HA's test
harness) and start the backend from its own environment, named by ``CER_E2E_BACKEND`` (the
path of the ``cer-backend`` executable; ``scripts/test-e2e`` sets it). The backend keeps its
SQLite database in a temporary folder, with the example community imported.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.modbus_sim import free_port

REPO = Path(__file__).resolve().parents[2]
COMMUNITY_FILE = REPO / "examples" / "comune" / "community.yaml"
SITE_POD = "IT001E00000101"
OTHER_POD = "IT001E00000102"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/cer_community."""


@dataclass
class Backend:
    """A real backend process on 127.0.0.1, stopped and started at will."""

    executable: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    site_token: str = ""
    viewer_token: str = ""
    community_id: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "serve.log"

    @property
    def database(self) -> Path:
        return self.data_dir / "cer-backend.sqlite3"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "CER_DATABASE_URL"}
        env["CER_DATA_DIR"] = str(self.data_dir)
        return env

    def command(self, *args: str) -> str:
        """Run a ``cer-backend`` command; answer its last output line."""
        result = subprocess.run(
            [self.executable, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"cer-backend {' '.join(args)}: {result.stderr}"
        return result.stdout.strip().splitlines()[-1]

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

    def start(self) -> None:
        """Start ``cer-backend serve`` and wait until its health endpoint answers."""
        assert self.process is None
        # the log goes to a file: a pipe nobody reads would block the server once full
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.executable, "serve", "--port", str(self.port)],
                env=self._env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the backend exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise AssertionError("the backend did not answer its health endpoint in 60 s")

    def stop(self) -> None:
        """Stop the process (SIGTERM: graceful)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        finally:
            self.process = None


@pytest.fixture
def backend(tmp_path: Path, socket_enabled: None) -> Iterator[Backend]:
    """A prepared, not yet started, real backend."""
    executable = os.environ.get("CER_E2E_BACKEND")
    if not executable:
        pytest.fail(
            "CER_E2E_BACKEND is not set: run the end-to-end tests with scripts/test-e2e, "
            "which builds the backend environment and points this variable at cer-backend"
        )
    server = Backend(executable=executable, data_dir=tmp_path / "backend")
    server.prepare()
    try:
        yield server
    finally:
        server.stop()
