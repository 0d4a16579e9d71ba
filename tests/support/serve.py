"""A live ``cer-backend serve`` process on a free port of 127.0.0.1.

Started, stopped (SIGTERM), killed (SIGKILL, as in a crash) and started again at will; its
commands run with the same environment, and everything it writes to stderr goes to ``log``
(a pipe nobody reads would block the server once full).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cli import backend_env, command_line, last_line, run_cli
from .net import HOST, free_port


@dataclass
class ServedBackend:
    """One backend process: its data in ``data_dir`` and its database ``database_url``
    (None: SQLite in ``data_dir``); ``executable``: the ``cer-backend`` to run (None: this
    checkout's, with this interpreter)."""

    data_dir: Path
    database_url: str | None = None
    executable: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's address."""
        return f"http://{HOST}:{self.port}"

    @property
    def api(self) -> str:
        """The API's base address."""
        return f"{self.url}/api/v1"

    @property
    def log(self) -> Path:
        """stderr of every run and command."""
        return self.data_dir / "serve.log"

    @property
    def database(self) -> Path:
        """The SQLite file (when no ``database_url`` is given)."""
        return self.data_dir / "cer-backend.sqlite3"

    def env(self) -> dict[str, str]:
        """The environment of the server and its commands."""
        return backend_env(self.data_dir, self.database_url)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``cer-backend`` command against the same data (its stderr also in ``log``)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        result = run_cli(*args, env=self.env(), executable=self.executable)
        with self.log.open("a") as handle:
            handle.write(result.stderr)
        return result

    def command(self, *args: str) -> str:
        """Run a ``cer-backend`` command that must succeed; its last output line."""
        return last_line(self.run(*args))

    def command_json(self, *args: str) -> Any:
        """Run a ``cer-backend`` command that must succeed; its JSON output."""
        result = self.run(*args)
        last_line(result)
        return json.loads(result.stdout)

    def start(self, timeout: float = 60) -> None:
        """Start ``serve`` and wait until it answers on /health (any status: it is up)."""
        assert self.process is None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [*command_line(self.executable), "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env(),
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.api}/health", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"serve did not answer its health endpoint in {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """SIGTERM (graceful) and wait; SIGKILL when it does not end in 30 s."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
            self.process = None

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines of every run (other lines as ``{"line": ...}``)."""
        records = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"line": line})
        return records
