"""The local brand folder (issue #14 item 9): the images HACS validates first and that Home
Assistant serves itself from 2026.3 (``/api/brands/integration/<domain>/<image>``)."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.cer_community.const import DOMAIN

BRAND = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "brand"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (no Pillow needed)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_brand_images_have_the_sizes_hacs_and_home_assistant_expect() -> None:
    """icon 256×256, icon@2x 512×512, logo landscape 128 high (logo@2x 256)."""
    assert _png_size(BRAND / "icon.png") == (256, 256)
    assert _png_size(BRAND / "icon@2x.png") == (512, 512)
    width, height = _png_size(BRAND / "logo.png")
    assert height == 128 and width > height
    width2, height2 = _png_size(BRAND / "logo@2x.png")
    assert (width2, height2) == (2 * width, 2 * height) or height2 == 256


@pytest.mark.skipif(
    importlib.util.find_spec("homeassistant.components.brands") is None,
    reason="Home Assistant serves local brand images only from 2026.3",
)
async def test_home_assistant_serves_the_local_brand(
    hass: HomeAssistant, hass_client: object
) -> None:
    """On the newer end Home Assistant's own ``brands`` view answers with our icon."""
    assert await async_setup_component(hass, "brands", {})
    await hass.async_block_till_done()
    client = await hass_client()  # type: ignore[operator]
    for image in ("icon.png", "logo.png"):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{image}")
        assert response.status == 200, image
        assert await response.read() == (BRAND / image).read_bytes()
