"""Screenshots of the web pages for the README (docs/images/web-*.png).

The example community (``examples/comune``) is served by a live ``cer-backend serve`` on
127.0.0.1 from a throw-away SQLite database, with its public page on and the first half of
2025 imported, settled month by month and finalised; headless Chromium (Debian's chromium
and chromium-driver) then photographs the console's overview, a settlement, a member's page
(phone-sized) and the public page. Run it with ``scripts/screenshots-web``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.backend.web.browser import (
    LiveBackend,
    browser_available,
    chromium,
    community_files,
    month_file,
)

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")


def load(backend: LiveBackend, folder: Path) -> tuple[str, str]:
    """The example with its public page, six months settled (the last one a draft)."""
    backend.prepare()
    _, public_file = community_files(folder)
    backend.command("community", "import", str(public_file))
    runs = []
    for month in MONTHS:
        data = month_file(folder, month, left_out="")
        backend.command(
            "readings", "import", "--community", backend.community_id, "--layout", "cer",
            str(data),
        )  # fmt: skip
    for month in MONTHS:
        out = backend.command_json(
            "settlement", "run", "--community", backend.community_id, "--period", month
        )
        runs.append(out["id"])
    for run in runs[:-1]:
        backend.command(
            "settlement", "finalise", "--community", backend.community_id, run,
            "--force", "--reason", "esempio",
        )  # fmt: skip
    link = backend.command(
        "member", "link", "--community", backend.community_id, "famiglia_03",
        "--base-url", backend.url,
    )  # fmt: skip
    return runs[-2], link


def shoot(driver: object, url: str, name: str, width: int, height: int) -> None:
    """One page to docs/images/<name>.png."""
    driver.set_window_size(width, height)  # type: ignore[attr-defined]
    driver.get(url)  # type: ignore[attr-defined]
    time.sleep(0.3)
    driver.save_screenshot(str(IMAGES / f"{name}.png"))  # type: ignore[attr-defined]
    print(f"docs/images/{name}.png")


def main() -> int:
    reason = browser_available()
    if reason is not None:
        print(f"screenshots-web: {reason}", file=sys.stderr)
        return 2
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cer-web-shots-") as work:
        folder = Path(work)
        backend = LiveBackend(folder / "data")
        run, link = load(backend, folder)
        backend.start()
        driver = chromium(folder)
        try:
            driver.get(f"{backend.url}/console/accedi")
            driver.find_element("css selector", "#token").send_keys(backend.admin_token)
            driver.find_element("css selector", "form button[type=submit]").click()
            shoot(driver, f"{backend.url}/console", "web-console-overview", 1200, 900)
            shoot(driver, f"{backend.url}/console/liquidazioni/{run}", "web-settlement", 1200, 1400)
            driver.get(link)
            driver.find_element("css selector", "#enter").click()
            time.sleep(0.5)
            shoot(driver, driver.current_url, "web-member", 420, 1100)
            shoot(
                driver, f"{backend.url}/pubblico/{backend.community_id}", "web-public", 1000, 1000
            )
        finally:
            driver.quit()
            backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
