"""A live ``cer-backend serve`` with the example community, and a headless Chromium.

Shared by the browser tests and ``scripts/screenshots-web``: the backend is the real console
script in its own process on 127.0.0.1, its SQLite database in a temporary folder.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.serve import ServedBackend

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "comune"
#: the month the browser tests upload, run and finalise
MONTH = "2025-06"
#: a POD the distributor's file leaves out: the month is incomplete (finalised only by force)
LEFT_OUT_POD = "IT001E00000410"


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
class LiveBackend(ServedBackend):
    """``cer-backend serve`` on a free port of 127.0.0.1 with the example community."""

    community_id: str = ""
    admin_token: str = ""

    def prepare(self) -> None:
        """The example community, its prices and an admin token of it."""
        self.community_id = self.command("community", "import", str(EXAMPLE / "community.yaml"))
        self.command(
            "prices", "import", "--community", self.community_id, str(EXAMPLE / "prices.csv")
        )
        self.admin_token = self.command(
            "token", "create", "--role", "admin", "--community", self.community_id
        )


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
