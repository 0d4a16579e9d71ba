"""A live ``cer-backend serve`` with the example community, and a headless Chromium.

Shared by the browser tests and ``scripts/screenshots-web``: the backend is the real console
script in its own process on 127.0.0.1, its SQLite database in a temporary folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "comune"
#: the month the browser tests upload, run and finalise
MONTH = "2025-06"
#: a POD the distributor's file leaves out: the month is incomplete (finalised only by force)
LEFT_OUT_POD = "IT001E00000410"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser_available() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        return "needs Debian's chromium and chromium-driver (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401, PLC0415
    except ImportError:
        return "needs selenium (pip install selenium)"
    return None


def month_file(folder: Path, month: str = MONTH, left_out: str = LEFT_OUT_POD) -> Path:
    """The example's readings of one month but one POD's, as a file of layout ``cer``."""
    target = folder / f"letture-{month}.csv"
    with (
        (EXAMPLE / "readings.csv").open(encoding="utf-8") as source,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(source)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            if row[1].startswith(month) and row[0] != left_out:
                writer.writerow(row)
    return target


def community_files(folder: Path) -> tuple[Path, Path]:
    """(a file with an error, a good file that publishes the page and names the Comune)."""
    text = (EXAMPLE / "community.yaml").read_text(encoding="utf-8")
    bad = folder / "community-error.yaml"
    bad.write_text(text.replace("type: municipality", "type: large_enterprise", 1), "utf-8")
    good = folder / "community-public.yaml"
    good.write_text(
        text.replace("    type: municipality\n", "    type: municipality\n    public: true\n", 1)
        + "\nsettings:\n  public_page: true\n",
        "utf-8",
    )
    return bad, good


@dataclass
class LiveBackend:
    """``cer-backend serve`` on a free port of 127.0.0.1 with the example community."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    community_id: str = ""
    admin_token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "CER_DATABASE_URL"}
        env["CER_DATA_DIR"] = str(self.data_dir)
        return env

    def command(self, *args: str) -> str:
        """Run ``cer-backend``; its last output line."""
        result = subprocess.run(
            [sys.executable, "-m", "cer_backend", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"cer-backend {' '.join(args)}: {result.stderr}"
        return result.stdout.strip().splitlines()[-1]

    def command_json(self, *args: str) -> Any:
        """Run ``cer-backend`` and read its JSON output."""
        result = subprocess.run(
            [sys.executable, "-m", "cer_backend", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"cer-backend {' '.join(args)}: {result.stderr}"
        return json.loads(result.stdout)

    def prepare(self) -> None:
        """The example community, its prices and an admin token of it."""
        self.community_id = self.command("community", "import", str(EXAMPLE / "community.yaml"))
        self.command(
            "prices", "import", "--community", self.community_id, str(EXAMPLE / "prices.csv")
        )
        self.admin_token = self.command(
            "token", "create", "--role", "admin", "--community", self.community_id
        )

    def start(self) -> None:
        """Serve, and wait for the health endpoint."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cer_backend", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("cer-backend serve exited")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise AssertionError("cer-backend serve did not answer in 60 s")

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


def chromium(download_dir: Path, width: int = 1280, height: int = 900) -> Any:
    """Headless Chromium driven by chromedriver (Debian's packages)."""
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        f"--window-size={width},{height}",
        "--lang=it-IT",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "intl.accept_languages": "it-IT,it",
        },
    )
    service = Service(executable_path=shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
    )
    return driver
