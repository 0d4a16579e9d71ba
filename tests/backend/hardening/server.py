"""``cer-backend serve`` as a real process for the hardening tests: started, killed (SIGKILL)
and restarted at will, its JSON logs kept in a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .private_pg import free_port


@dataclass
class ServeProcess:
    """One backend process on 127.0.0.1; ``log`` collects its stderr over every restart."""

    database_url: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CER_DATA_DIR"] = str(self.folder / "data")
        env["CER_DATABASE_URL"] = self.database_url
        return env

    def command(self, *args: str) -> str:
        """Run a ``cer-backend`` command; its last output line."""
        result = subprocess.run(
            [sys.executable, "-m", "cer_backend", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        with self.log.open("a") as handle:
            handle.write(result.stderr)
        assert result.returncode == 0, f"cer-backend {' '.join(args)}: {result.stderr}"
        return result.stdout.strip().splitlines()[-1]

    def start(self, timeout: float = 60) -> None:
        """Start ``serve`` and wait until it answers (any status) on /health."""
        assert self.process is None
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cer_backend", "serve", "--port", str(self.port)],
                env=self.env(),
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("serve did not answer in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        """SIGTERM and wait."""
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
