"""``cer-backend`` as a process: the command line, its environment, one run.

The command is the backend of this checkout run by the test's interpreter
(``python -m cer_backend``), or a given executable (the end-to-end tests name the console
script of the backend's own environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: seconds a command may take before the test fails
TIMEOUT = 300.0


def command_line(executable: str | None = None) -> list[str]:
    """The words that start ``cer-backend``."""
    return [executable] if executable else [sys.executable, "-m", "cer_backend"]


def backend_env(
    data_dir: Path, database_url: str | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment for the backend: its data in ``data_dir``; the database
    ``database_url``, else its SQLite file in ``data_dir`` (an inherited
    ``CER_DATABASE_URL`` is dropped); then ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "CER_DATABASE_URL"}
    env["CER_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["CER_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    executable: str | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``cer-backend ARGS`` to its end; exit code, stdout and stderr as text."""
    return subprocess.run(
        [*command_line(executable), *args],
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last line a successful command printed (an id, a token), failing the test with
    its stderr when it did not succeed."""
    assert result.returncode == 0, f"cer-backend {' '.join(map(str, result.args))}: {result.stderr}"
    return result.stdout.strip().splitlines()[-1]
