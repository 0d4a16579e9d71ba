"""The Lovelace dashboards of dashboards/lovelace against the entities the integration creates.

The test's Home Assistant has what the dashboards were drawn for: the town hall's site
"Municipio" (a SunSpec inverter, an SDM630 at the grid point, an EM24 on the public
lighting line), the school's site "Scuola" (its own SDM630 and inverter) and the community
dashboard entry "CER Comune", all on real pymodbus servers and a real backend stub. Every
entity id a dashboard names must be one of the entities this setup creates, enabled by default.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from homeassistant.util import dt as dt_util

from custom_components.cer_community.const import DOMAIN
from tests.integration.backend_stub import BackendStub, Token
from tests.integration.conftest import (
    OTHER_POD,
    POD,
    SITE_TOKEN,
    VIEWER_TOKEN,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Em24Simulator, Sdm630Simulator, SunSpecSimulator

REPO = Path(__file__).resolve().parents[2]
LOVELACE = REPO / "dashboards" / "lovelace"
DASHBOARDS = sorted(str(path.relative_to(LOVELACE)) for path in LOVELACE.rglob("*.yaml"))
#: Entity ids follow the language of Home Assistant when the entities are created: the main
#: files are for an Italian Home Assistant, those in en/ for one set up in English.
LANGUAGE_OF_FOLDER = {".": "it", "en": "en"}


def _language(name: str) -> str:
    return LANGUAGE_OF_FOLDER[str(Path(name).parent)]


SCHOOL_TOKEN = "site-token-scuola"

#: Core cards of Home Assistant 2024.3 (no custom cards, nothing newer: e.g. no "heading").
CORE_CARDS_2024_3 = {
    "alarm-panel",
    "area",
    "button",
    "calendar",
    "conditional",
    "entities",
    "entity",
    "entity-filter",
    "gauge",
    "glance",
    "grid",
    "history-graph",
    "horizontal-stack",
    "humidifier",
    "iframe",
    "light",
    "logbook",
    "map",
    "markdown",
    "media-control",
    "picture",
    "picture-elements",
    "picture-entity",
    "picture-glance",
    "plant-status",
    "sensor",
    "shopping-list",
    "statistic",
    "statistics-graph",
    "thermostat",
    "tile",
    "todo-list",
    "vertical-stack",
    "weather-forecast",
}
ENTITY_ID = re.compile(r"\b(?:sensor|binary_sensor)\.[a-z0-9_]+\b")


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((LOVELACE / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _cards(views: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every card of a dashboard, nested ones (stacks, grids, conditionals) included."""

    def walk(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield card
        for child in card.get("cards", []):
            yield from walk(child)
        if "card" in card:
            yield from walk(card["card"])

    for view in views:
        for card in view.get("cards", []):
            yield from walk(card)


def referenced_entity_ids(name: str) -> set[str]:
    """Entity ids named anywhere in the file: card options, rows and markdown templates."""
    return set(ENTITY_ID.findall((LOVELACE / name).read_text(encoding="utf-8")))


@pytest.fixture(params=sorted(set(LANGUAGE_OF_FOLDER.values())))
async def community_hass(
    hass: HomeAssistant, socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[HomeAssistant]:
    """The town hall's Home Assistant with two sites and the community dashboard entry.

    Parametrised by the language Home Assistant has when the entities are created.
    """
    hass.config.language = request.param
    stub = BackendStub(
        {POD, OTHER_POD},
        {
            SITE_TOKEN: Token("site", {POD}),
            SCHOOL_TOKEN: Token("site", {OTHER_POD}),
            VIEWER_TOKEN: Token("viewer"),
        },
    )
    await stub.start()
    async with (
        SunSpecSimulator(meter_model=None) as town_hall_inverter,
        Sdm630Simulator() as town_hall_grid,
        Em24Simulator() as lighting,
        SunSpecSimulator(meter_model=None) as school_inverter,
        Sdm630Simulator() as school_grid,
    ):
        town_hall = site_entry(
            [
                modbus_device("inv", "Inverter", "production", "sunspec", town_hall_inverter.port),
                modbus_device("grid", "Grid meter", "grid", "sdm630", town_hall_grid.port),
                modbus_device("light", "Lighting", "load", "em24", lighting.port),
            ],
            backend=stub,
        )
        school = site_entry(
            [
                modbus_device("inv", "Inverter", "production", "sunspec", school_inverter.port),
                modbus_device("grid", "Grid meter", "grid", "sdm630", school_grid.port),
            ],
            backend=stub,
            token=SCHOOL_TOKEN,
            pod=OTHER_POD,
            name="Scuola",
        )
        community = community_entry(stub)
        entries = (town_hall, school, community)
        for entry in entries:
            await setup_entry(hass, entry)
        yield hass
        for entry in entries:
            await unload_entry(hass, entry)
    await stub.stop()


def test_both_dashboards_are_there_for_both_languages() -> None:
    assert DASHBOARDS == [
        "building.yaml",
        "en/building.yaml",
        "en/municipal_staff.yaml",
        "municipal_staff.yaml",
    ]


def test_the_english_files_differ_from_the_italian_ones_only_in_entity_ids() -> None:
    for name in ("building.yaml", "municipal_staff.yaml"):
        italian = ENTITY_ID.sub("ID", (LOVELACE / name).read_text(encoding="utf-8"))
        english = ENTITY_ID.sub("ID", (LOVELACE / "en" / name).read_text(encoding="utf-8"))
        assert italian == english, name


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_uses_only_core_cards_of_home_assistant_2024_3(name: str) -> None:
    dashboard = _load(name)
    assert dashboard["title"]
    assert dashboard["views"]
    types = {card["type"] for card in _cards(dashboard["views"])}
    assert types, name
    assert types <= CORE_CARDS_2024_3, (
        f"{name}: not core or not in 2024.3: {types - CORE_CARDS_2024_3}"
    )


async def test_every_entity_of_the_dashboards_is_created_by_the_integration(
    community_hass: HomeAssistant,
) -> None:
    hass = community_hass
    registry = er.async_get(hass)
    created = {
        entity.entity_id: entity
        for entity in registry.entities.values()
        if entity.platform == DOMAIN
    }
    language = hass.config.language
    for name in (name for name in DASHBOARDS if _language(name) == language):
        referenced = referenced_entity_ids(name)
        assert referenced, name
        missing = referenced - set(created)
        assert not missing, f"{name} names entities the integration does not create: {missing}"
        disabled = {e for e in referenced if created[e].disabled_by is not None}
        assert not disabled, f"{name} names entities disabled by default: {disabled}"


async def test_markdown_templates_render_on_this_version(community_hass: HomeAssistant) -> None:
    """Markdown cards are Jinja templates rendered by Home Assistant: they must not fail."""
    hass = community_hass
    for name in (name for name in DASHBOARDS if _language(name) == hass.config.language):
        for card in _cards(_load(name)["views"]):
            if card["type"] != "markdown":
                continue
            rendered = Template(card["content"], hass).async_render(parse_result=False)
            assert rendered.strip(), f"{name}: a markdown card renders empty"
            assert "None" not in rendered, f"{name}: {rendered}"


async def test_statistic_cards_use_entities_with_long_term_statistics(
    community_hass: HomeAssistant,
) -> None:
    """Statistic cards need a state class, and 'change' needs an energy total."""
    hass = community_hass
    for name in (name for name in DASHBOARDS if _language(name) == hass.config.language):
        for card in _cards(_load(name)["views"]):
            if card["type"] == "statistic":
                rows = [{"entity": card["entity"]}]
                stat_types = [card["stat_type"]]
            elif card["type"] == "statistics-graph":
                rows = card["entities"]
                stat_types = card["stat_types"]
            else:
                continue
            for row in rows:
                state = hass.states.get(row["entity"])
                assert state is not None, row["entity"]
                state_class = state.attributes.get("state_class")
                assert state_class is not None, f"{name}: {row['entity']} has no statistics"
                if "change" in stat_types:
                    assert state_class in {"total", "total_increasing"}, row["entity"]


def _markdown(name: str, marker: str) -> str:
    """The content of the markdown card of ``name`` that contains ``marker``."""
    (content,) = [
        card["content"]
        for card in _cards(_load(name)["views"])
        if card["type"] == "markdown" and marker in card["content"]
    ]
    return str(content)


@pytest.mark.parametrize("name", ["municipal_staff.yaml", "en/municipal_staff.yaml"])
async def test_unknown_tip_estimate_reads_a_dash_not_zero_euro(
    hass: HomeAssistant, name: str
) -> None:
    """Issue #14 item 13: with no TIP estimate the card said "0.0 € … 0.0 €/MWh"."""
    content = _markdown(name, "Quest'ora")
    shared_id, tip_id = ENTITY_ID.findall(content)[:2]
    hass.states.async_set(shared_id, "12000")
    hass.states.async_set(tip_id, "unknown")
    rendered = Template(content, hass).async_render(parse_result=False)
    assert "—" in rendered
    assert "0.0 €" not in rendered and "€/MWh" not in rendered
    hass.states.async_set(tip_id, "110.5")
    rendered = Template(content, hass).async_render(parse_result=False)
    assert "1.33 € su 12.0 kWh condivisi" in rendered
    assert "110.5 €/MWh" in rendered


@pytest.mark.parametrize("name", ["building.yaml", "en/building.yaml"])
@pytest.mark.parametrize(
    "case",
    [
        (0, 3, "✅ Invii regolari.", "⚠️"),
        (1, 20, "✅ Invii regolari.", "⚠️"),
        (3, 185, "⚠️ **3 ore** non ancora accettate dal backend: controllare", "✅"),
        (0, 300, "⚠️ Nessun invio riuscito da più di 2 ore", "✅"),
        (6, None, "⚠️ **6 ore**", "✅"),
    ],
)
async def test_upload_health_is_not_green_while_hours_fail(
    hass: HomeAssistant, name: str, case: tuple[int, int | None, str, str]
) -> None:
    """Issue #14 item 13: "✅ Invii regolari" was shown while hours had been failing for up
    to 6 hours, and its relative time was English inside Italian ("ultimo 3 minutes fa"):
    the time of the last upload is now the entities row's, in HA's language."""
    pending, minutes_ago, expected, absent = case
    content = _markdown(name, "Invii regolari")
    pending_id, last_id = ENTITY_ID.findall(content)[:2]
    hass.states.async_set(pending_id, str(pending))
    last = "unknown"
    if minutes_ago is not None:
        last = (dt_util.utcnow() - timedelta(minutes=minutes_ago, seconds=5)).isoformat()
    hass.states.async_set(last_id, last)
    rendered = Template(content, hass).async_render(parse_result=False)
    assert expected in rendered
    assert absent not in rendered
    assert not RELATIVE_TEXT.search(rendered), rendered


#: what a relative time built in a template looks like, in either language
RELATIVE_TEXT = re.compile(r"\b(fa|ago|minutes?|hours?|min|ore fa)\b[).]")
#: template functions that write relative times in English whatever HA's language
ENGLISH_ONLY = ("relative_time", "time_since", "time_until")


@pytest.mark.parametrize("name", DASHBOARDS)
def test_relative_times_are_the_frontends_in_the_users_language(name: str) -> None:
    """Issue #14 item 13: no template builds a relative time (HA's ``relative_time`` and
    ``time_since`` write English; a hand-made "3 min fa" is Italian to everyone); the time of
    the last upload is an entities row with ``format: relative``, which the frontend writes
    in the user's language."""
    text = (LOVELACE / name).read_text(encoding="utf-8")
    assert not [f for f in ENGLISH_ONLY if f in text], name
    assert " fa'" not in text and " fa)" not in text, name
    rows = [
        row
        for card in _cards(_load(name)["views"])
        if card["type"] == "entities"
        for row in card.get("entities", [])
        if isinstance(row, dict)
        and re.search(r"_(ultimo_invio|last_upload)$", row.get("entity", ""))
    ]
    assert rows, name
    assert all(row.get("format") == "relative" for row in rows), rows


@pytest.mark.parametrize("name", ["municipal_staff.yaml", "en/municipal_staff.yaml"])
@pytest.mark.parametrize(
    "case",
    [
        (2, 2, 31, "✅ Nessun avviso", "non trasmettono"),  # 29 households never report
        (1, 2, 31, "⚠️ **Siti con Home Assistant che non trasmettono:** 1 su 2", "✅"),
        (0, None, 31, "✅ Nessun avviso", "non trasmettono"),  # an older backend: not known
    ],
)
async def test_sites_not_reporting_counts_only_home_assistant_sites(
    hass: HomeAssistant, name: str, case: tuple[int, int | None, int, str, str]
) -> None:
    """Issue #14 item 13: "29 of 31 sites not reporting" was permanent (households have no
    Home Assistant); the warning compares the sites reporting with those expected to."""
    reporting, expected, total, says, absent = case
    content = _markdown(name, "non trasmettono")
    ids = ENTITY_ID.findall(content)
    reporting_id = next(i for i in ids if i.endswith(("che_trasmettono", "sites_reporting")))
    expected_id = next(i for i in ids if i.endswith(("devono_trasmettere", "expected_to_report")))
    hass.states.async_set(reporting_id, str(reporting))
    hass.states.async_set(expected_id, "unknown" if expected is None else str(expected))
    for sites_id in (i for i in ids if i.endswith(("_siti_della_comunita", "_community_sites"))):
        hass.states.async_set(sites_id, str(total))
    rendered = Template(content, hass).async_render(parse_result=False)
    assert says in rendered, rendered
    assert absent not in rendered, rendered


async def test_each_buildings_share_of_the_month_is_on_the_staff_dashboard(
    community_hass: HomeAssistant,
) -> None:
    """Issue #14 item 11: per site its share of the month, from the backend's summary."""
    hass = community_hass
    name = "municipal_staff.yaml" if hass.config.language == "it" else "en/municipal_staff.yaml"
    (card,) = [
        c
        for c in _cards(_load(name)["views"])
        if c["type"] == "entities" and c.get("title") == "Quota del mese per edificio"
    ]
    values = [
        hass.states.get(row["entity"])
        for row in card["entities"]
        if "entity" in row and row.get("type") != "attribute"
    ]
    assert len(values) == 4
    assert all(v is not None and v.state not in ("unknown", "unavailable") for v in values)
    assert [v.state for v in values if v.attributes.get("device_class") == "monetary"] == [  # type: ignore[union-attr]
        "59.34",
        "37.06",
    ]
    for row in card["entities"]:
        if row.get("type") == "attribute":
            state = hass.states.get(row["entity"])
            assert state is not None and row["attribute"] in state.attributes


#: Width for cards on a 412-px phone (16 px margins each side; at 1400 px a masonry column
#: is narrower still), what a statistic card takes besides its name (padding and icon), and
#: one character of the name (14 px): longer names are cut ("Municipio · pro…").
PHONE_WIDTH_PX = 380
CARD_CHROME_PX = 72
NAME_CHAR_PX = 8


def _statistic_names_with_columns(name: str) -> Iterator[tuple[str, int]]:
    """(name of each statistic card, how many cards share its row)."""

    def walk(card: dict[str, Any], columns: int) -> Iterator[tuple[str, int]]:
        if card["type"] == "statistic":
            yield str(card.get("name", "")), columns
        children = card.get("cards", [])
        if card["type"] == "grid":
            inner = int(card.get("columns", 3))
        elif card["type"] == "horizontal-stack":
            inner = max(len(children), 1)
        else:
            inner = 1
        for child in children:
            yield from walk(child, columns * inner)

    for view in _load(name)["views"]:
        for card in view.get("cards", []):
            yield from walk(card, 1)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_statistic_names_fit_their_column_on_a_phone(name: str) -> None:
    """Issue #14 item 13: statistic labels were cut on a 412-px phone and at 1400 px."""
    checked = 0
    for label, columns in _statistic_names_with_columns(name):
        checked += 1
        fits = (PHONE_WIDTH_PX // columns - CARD_CHROME_PX) // NAME_CHAR_PX
        assert label, f"{name}: a statistic card without a name"
        assert len(label) <= fits, f"{name}: {label!r} is cut in a column of {columns}"
    assert checked or "building" in name


#: What a gauge may measure: its name says which (not only where).
GAUGE_MEASURES = ("Produzione", "Surplus", "Rete", "Consumo", "Immissione", "Prelievo")


@pytest.mark.parametrize("name", DASHBOARDS)
def test_gauges_say_what_they_measure(name: str) -> None:
    """Issue #14 item 13: a gauge named "Municipio" did not say it shows production."""
    gauges = [card for card in _cards(_load(name)["views"]) if card["type"] == "gauge"]
    assert gauges, name
    for gauge in gauges:
        label = str(gauge.get("name", ""))
        assert any(word in label for word in GAUGE_MEASURES), f"{name}: gauge {label!r}"
