"""``scripts/screenshots`` on one dashboard (issue #14 item 15), as CI runs it.

The script starts Home Assistant 2026.10 with the example backend and simulated devices,
configures it through the config-flow API and photographs the building's dashboard in
headless Chromium; it fails when a card says its entity is not there. This test runs it into a
temporary folder (the committed pictures are left alone) and checks what it wrote.

Run by ``scripts/test-screenshots`` (which sets ``CER_SCREENSHOTS_SCRIPT``); skipped without it.
The simulated devices show the same figures at any hour, so nothing depends on the clock.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

SCRIPT = os.environ.get("CER_SCREENSHOTS_SCRIPT")
#: The whole run: Home Assistant's start, the configuration, two pictures (about a minute;
#: more when it waits for another user of the sid root). The script bounds its own steps.
TIMEOUT_S = 1500

pytestmark = pytest.mark.skipif(SCRIPT is None, reason="run by scripts/test-screenshots")


def _distinct_colours(path: Path) -> int:
    """Colours of the picture shrunk to 64 px wide (a blank page has one or two)."""
    with Image.open(path) as image:
        small = image.convert("RGB").resize((64, max(image.height * 64 // image.width, 1)))
        return len(small.getcolors(64 * 64 * 4) or [])


def _run(command: list[str]) -> tuple[int, str]:
    """(exit code, output) of the script; past TIMEOUT_S it gets SIGTERM, so that its trap
    stops Home Assistant and the devices and unmounts the sid root, and the test fails."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()
        output, _ = process.communicate(timeout=120)
        pytest.fail(f"scripts/screenshots took more than {TIMEOUT_S} s: {output[-4000:]}")
    return process.returncode, output


def test_the_building_dashboard_is_photographed_with_every_entity(tmp_path: Path) -> None:
    assert SCRIPT is not None
    returncode, output = _run([SCRIPT, "--out", str(tmp_path), "--only", "building"])
    assert returncode == 0, output[-4000:]
    # the check on the page ran and found every card's entity
    assert "no card without its entity" in output
    assert "entities of the dashboards present" in output
    pictures = sorted(path.name for path in tmp_path.glob("*.png"))
    assert pictures == ["lovelace-building-phone.png", "lovelace-building.png"]
    # as tall as the cards (about 1160 and 2670 px): drawn, not a spinner
    for name, width, least in (
        ("lovelace-building.png", 1400, 1000),
        ("lovelace-building-phone.png", 412, 2000),
    ):
        path = tmp_path / name
        with Image.open(path) as image:
            assert image.width == width
            assert image.height >= least, f"{name}: {image.size}"
        assert path.stat().st_size > 40_000, name
        assert _distinct_colours(path) > 20, f"{name} is blank"


def test_an_unknown_dashboard_is_refused_in_one_line(tmp_path: Path) -> None:
    """Refused before anything starts: one line, no traceback, exit code 1."""
    assert SCRIPT is not None
    result = subprocess.run(
        [SCRIPT, "--out", str(tmp_path), "--only", "cantina"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: screenshots: --only cantina: no such dashboard (known: staff, building)"
    ]
    assert "Traceback" not in result.stderr
    assert "Home Assistant 2026.10 on http" not in result.stderr  # nothing was started
    assert list(tmp_path.iterdir()) == []
