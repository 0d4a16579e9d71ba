"""The check of ``scripts/screenshots`` on a page: a card without its entity is found inside
the shadow roots of Home Assistant's frontend (headless Chromium on a static page built like
it: ``hui-view`` → card → ``hui-warning``), and a page without one passes."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.backend.web.browser import browser_available, chromium

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots_ha.py"

#: Custom elements with shadow roots, nested as the frontend nests them; ``?warn`` puts the
#: frontend's warning (Italian text) inside the second card.
PAGE = """<!doctype html><html><body><home-assistant></home-assistant><script>
const warn = location.search.includes('warn');
class Shadow extends HTMLElement {
  constructor() { super(); this.attachShadow({mode: 'open'}); }
}
customElements.define('home-assistant', class extends Shadow {
  connectedCallback() { this.shadowRoot.innerHTML = '<hui-view></hui-view>'; }
});
customElements.define('hui-view', class extends Shadow {
  connectedCallback() {
    this.shadowRoot.innerHTML =
      '<hui-tile-card style="display:block;height:80px"></hui-tile-card>' +
      '<hui-statistic-card style="display:block;height:120px"></hui-statistic-card>';
  }
});
customElements.define('hui-tile-card', class extends Shadow {
  connectedCallback() { this.shadowRoot.innerHTML = '<div>18.400 W</div>'; }
});
customElements.define('hui-statistic-card', class extends Shadow {
  connectedCallback() {
    this.shadowRoot.innerHTML = warn
      ? '<hui-warning>Entità non trovata: sensor.municipio_lighting_potenza</hui-warning>'
      : '<div>12 kWh</div>';
  }
});
customElements.define('hui-warning', class extends HTMLElement {});
</script></body></html>"""


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots_ha", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = browser_available()
    if reason is not None and os.environ.get("CER_SCREENSHOTS_SCRIPT"):
        pytest.fail(reason)  # scripts/test-screenshots installs the browser: it must be there
    if reason is not None:
        pytest.skip(reason)
    browser = chromium(tmp_path_factory.mktemp("downloads"))
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page") / "view.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_a_card_without_its_entity_is_found_in_the_shadow_roots(driver: Any, page: Path) -> None:
    probe = _load_script().PAGE_PROBE
    driver.get(page.as_uri() + "?warn")
    found = driver.execute_script(probe)
    assert found["view"] is True
    assert found["cards"] == 2
    assert found["warnings"] == ["Entità non trovata: sensor.municipio_lighting_potenza"]
    assert found["bottom"] >= 200  # both cards' height: the picture is made as tall


def test_a_page_whose_cards_all_have_their_entity_passes(driver: Any, page: Path) -> None:
    probe = _load_script().PAGE_PROBE
    driver.get(page.as_uri())
    found = driver.execute_script(probe)
    assert found["cards"] == 2
    assert found["warnings"] == []
