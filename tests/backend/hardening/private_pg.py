"""A private PostgreSQL cluster for one test: initdb and pg_ctl in a temporary folder, on a
free port of 127.0.0.1 (never the machine's shared cluster). As root, the server runs as the
``postgres`` user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port


def _bin(name: str) -> str | None:
    binaries = Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
    found = sorted((str(path) for path in binaries), key=_version)
    return found[-1] if found else shutil.which(name)


def _version(path: str) -> float:
    try:
        return float(Path(path).parents[1].name)
    except ValueError:
        return 0.0


@dataclass
class PrivatePostgres:
    """A throw-away cluster with trust authentication on the loopback only."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    @classmethod
    def create(cls) -> PrivatePostgres:
        """initdb in a new temporary folder (raises when PostgreSQL is not installed)."""
        initdb = _bin("initdb")
        if initdb is None:
            raise FileNotFoundError("initdb is not installed")
        folder = Path(tempfile.mkdtemp(prefix="cer-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(folder, free_port())
        cluster._run(
            initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        return cluster

    def start(self) -> None:
        """Start on the cluster's port; waits until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(_bin("pg_ctl")),
            "-D", str(self.folder / "data"),
            "-l", str(self.folder / "server.log"),
            "-o", options,
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once (fast: open connections are cut, as in an outage)."""
        self._run(str(_bin("pg_ctl")), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop if running and remove the folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
