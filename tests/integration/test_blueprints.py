"""The blueprints of blueprints/automation/cer_community, on the Home Assistant under test.

Each blueprint is loaded with Home Assistant's own blueprint schema and instantiated through
the automation integration (``use_blueprint``), exactly as a user's import would be. The load
shifting blueprint is then driven in time, minute by minute where it matters, with the
harness's frozen clock and ``async_fire_time_changed``.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint import models as blueprint_models
from homeassistant.components.climate import (
    ClimateEntity,
    ClimateEntityFeature,
    HVACMode,
)
from homeassistant.components.switch import SwitchEntity
from homeassistant.components.water_heater import (
    WaterHeaterEntity,
    WaterHeaterEntityFeature,
)
from homeassistant.const import STATE_OFF, STATE_ON, UnitOfTemperature
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers import selector
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    async_fire_time_changed,
    async_mock_service,
    mock_platform,
)

from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import DOMAIN
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    POD,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Sdm630Simulator

REPO = Path(__file__).resolve().parents[2]
BLUEPRINT_DIR = REPO / "blueprints" / "automation" / "cer_community"
BLUEPRINTS = sorted(path.name for path in BLUEPRINT_DIR.glob("*.yaml"))
ROME = ZoneInfo("Europe/Rome")

SURPLUS = "sensor.comunita_surplus_power"
SURPLUS_FLAG = "binary_sensor.comunita_community_surplus"
HOUR_INJECTED = "sensor.comunita_community_energy_injected_this_hour"
HOUR_WITHDRAWN = "sensor.comunita_community_energy_withdrawn_this_hour"
RUNTIME = "input_number.boiler_runtime_today"
LOAD = "switch.boiler"
NOTIFY = "notify.cer_test"

# Monday 2 June 2025, a working day of full sun in Italy.
MONDAY = datetime(2025, 6, 2, tzinfo=ROME)

SetupAutomation = Callable[[str, dict[str, Any]], Coroutine[Any, Any, str]]


def _at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _read(name: str) -> dict[str, Any]:
    data = load_yaml(str(BLUEPRINT_DIR / name))
    assert isinstance(data, dict)
    return data


def _blueprint(name: str) -> blueprint_models.Blueprint:
    """Build the blueprint with the schema the automation integration uses on this version."""
    kwargs: dict[str, Any] = {"path": name, "expected_domain": "automation"}
    if "schema" in inspect.signature(blueprint_models.Blueprint).parameters:
        from homeassistant.components.automation.config import (  # noqa: PLC0415
            AUTOMATION_BLUEPRINT_SCHEMA,
        )

        kwargs["schema"] = AUTOMATION_BLUEPRINT_SCHEMA
    return blueprint_models.Blueprint(_read(name), **kwargs)


async def _set_time_zone(hass: HomeAssistant, zone: str) -> None:
    if hasattr(hass.config, "async_set_time_zone"):  # HA 2024.6 and later
        await hass.config.async_set_time_zone(zone)
    else:  # HA 2024.3
        hass.config.set_time_zone(zone)


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime, step_minutes: int = 1
) -> None:
    """Move the clock to ``until`` through every whole minute on the way (the blueprint's tick)."""
    now = dt_util.utcnow()
    target = dt_util.as_utc(until)
    while now < target:
        nxt = (now + timedelta(minutes=step_minutes)).replace(second=0, microsecond=0)
        now = min(nxt, target)
        freezer.move_to(now)
        async_fire_time_changed(hass, now)
        await _block_till_done(hass)


async def _block_till_done(hass: HomeAssistant) -> None:
    """Wait for everything, polls too: from HA 2024.4 coordinators poll in background tasks."""
    if "wait_background_tasks" in inspect.signature(hass.async_block_till_done).parameters:
        await hass.async_block_till_done(wait_background_tasks=True)
    else:
        await hass.async_block_till_done()


# --- fake loads of each kind the blueprint accepts ------------------------------------------


class FakeSwitch(SwitchEntity):
    """A switch that does what it is told, like a relay on a water heater."""

    _attr_should_poll = False

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_unique_id = f"fake-{name}"
        self._attr_is_on = False

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        self.async_write_ha_state()


class FakeClimate(ClimateEntity):
    """A heat pump with on and off."""

    _attr_should_poll = False
    _attr_hvac_modes = [HVACMode.OFF, HVACMode.HEAT]  # noqa: RUF012
    _attr_hvac_mode = HVACMode.OFF
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_supported_features = ClimateEntityFeature.TURN_ON | ClimateEntityFeature.TURN_OFF
    _enable_turn_on_off_backwards_compatibility = False

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_unique_id = f"fake-{name}"

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        self._attr_hvac_mode = hvac_mode
        self.async_write_ha_state()

    async def async_turn_on(self) -> None:
        await self.async_set_hvac_mode(HVACMode.HEAT)

    async def async_turn_off(self) -> None:
        await self.async_set_hvac_mode(HVACMode.OFF)


class FakeWaterHeater(WaterHeaterEntity):
    """An electric water heater with on and off."""

    _attr_should_poll = False
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_operation_list = [STATE_OFF, "electric"]  # noqa: RUF012
    _attr_current_operation = STATE_OFF
    _attr_supported_features = WaterHeaterEntityFeature.ON_OFF

    def __init__(self, name: str) -> None:
        self._attr_name = name
        self._attr_unique_id = f"fake-{name}"

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_current_operation = "electric"
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_current_operation = STATE_OFF
        self.async_write_ha_state()


async def _add_fake(hass: HomeAssistant, domain: str, entity: Entity) -> None:
    async def setup_platform(
        hass: HomeAssistant, config: Any, add_entities: Any, discovery_info: Any = None
    ) -> None:
        add_entities([entity])

    mock_platform(
        hass, f"cer_test_loads.{domain}", MockPlatform(async_setup_platform=setup_platform)
    )
    assert await async_setup_component(hass, domain, {domain: [{"platform": "cer_test_loads"}]})
    await hass.async_block_till_done()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
async def blueprint_hass(
    hass: HomeAssistant, tmp_path: Path, freezer: FrozenDateTimeFactory
) -> HomeAssistant:
    """Home Assistant in Rome on a Monday morning, with the blueprints in its config folder."""
    freezer.move_to(dt_util.as_utc(_at(7, 0)))
    await _prepare(hass, tmp_path)
    return hass


async def _prepare(hass: HomeAssistant, config_dir: Path) -> None:
    """Rome's time zone, and the blueprints where an import puts them."""
    await _set_time_zone(hass, "Europe/Rome")
    hass.config.config_dir = str(config_dir)
    shutil.copytree(BLUEPRINT_DIR, config_dir / "blueprints" / "automation" / "cer_community")
    assert await async_setup_component(hass, "homeassistant", {})


async def _create_automation(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> str:
    config = {
        "automation": [
            {
                "id": "cer_test",
                "alias": "CER test",
                "use_blueprint": {"path": f"cer_community/{blueprint}", "input": inputs},
            }
        ]
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    state = hass.states.get("automation.cer_test")
    assert state is not None, f"{blueprint} did not give an automation on this version"
    assert state.state == STATE_ON
    return "automation.cer_test"


async def _turn_off_automation(hass: HomeAssistant) -> None:
    """Detach the automation's time triggers: the harness fails a test that leaves timers."""
    if hass.states.get("automation.cer_test") is not None:
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "automation.cer_test"}, blocking=True
        )
        await hass.async_block_till_done()


@pytest.fixture
async def setup_automation(blueprint_hass: HomeAssistant) -> AsyncIterator[SetupAutomation]:
    """Create one automation from a blueprint file and inputs, as the UI's import does.

    At the end the automation is turned off, which detaches its time triggers: the harness
    fails a test that leaves timers behind.
    """
    hass = blueprint_hass

    async def _setup(blueprint: str, inputs: dict[str, Any]) -> str:
        return await _create_automation(hass, blueprint, inputs)

    yield _setup
    await _turn_off_automation(hass)


@pytest.fixture
def notifications(blueprint_hass: HomeAssistant) -> list[ServiceCall]:
    return async_mock_service(blueprint_hass, "notify", "cer_test")


# --- the blueprint files themselves -----------------------------------------------------------


def test_all_three_blueprints_are_there() -> None:
    assert BLUEPRINTS == [
        "alert_notification.yaml",
        "load_shifting.yaml",
        "public_lighting_check.yaml",
    ]


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_passes_home_assistant_schema(name: str) -> None:
    blueprint = _blueprint(name)
    assert blueprint.domain == "automation"
    assert blueprint.validate() is None  # min_version not above the version under test
    metadata = blueprint.metadata
    assert metadata["homeassistant"]["min_version"] == "2024.3.0"
    assert "**English.**" in metadata["description"]
    assert "**Italiano.**" in metadata["description"]
    assert metadata["source_url"].endswith(f"/blueprints/automation/cer_community/{name}")


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_every_input_is_named_in_both_languages_and_defaults_fit_selectors(name: str) -> None:
    for key, spec in _blueprint(name).inputs.items():
        assert " / " in spec["name"], f"{name}: input {key} needs an English / Italian name"
        if "default" not in spec or spec["default"] in ("", []):
            continue  # an empty optional entity is handled by the blueprint's templates
        selector.selector(spec["selector"])(spec["default"])


def test_blueprints_use_only_syntax_known_to_home_assistant_2024_3() -> None:
    """Plural keys (triggers:, actions:) and trigger: in a trigger came after 2024.3."""
    for name in BLUEPRINTS:
        data = _read(name)
        for key in ("triggers", "conditions", "actions"):
            assert key not in data, f"{name}: '{key}' needs HA 2024.10"
        for trigger in data["trigger"]:
            assert "platform" in trigger, f"{name}: 'trigger:' in a trigger needs HA 2024.10"
        for spec in data["blueprint"]["input"].values():
            assert "input" not in spec, f"{name}: input sections need HA 2024.6"
        text = (BLUEPRINT_DIR / name).read_text(encoding="utf-8")
        assert "\n    action: " not in text, f"{name}: 'action:' for a service needs HA 2024.8"


# --- load shifting ----------------------------------------------------------------------------


def _load_shifting_inputs(**overrides: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "surplus_entity": SURPLUS,
        "load_entity": LOAD,
        "start_threshold": 2.0,
        "stop_threshold": 0.5,
        "min_on_minutes": 15,
        "min_off_minutes": 10,
        "window_start": "08:00:00",
        "window_end": "18:00:00",
    }
    inputs.update(overrides)
    # what the UI would refuse, the test refuses too
    spec = _blueprint("load_shifting.yaml").inputs
    for key, value in inputs.items():
        if value not in ("", []):
            selector.selector(spec[key]["selector"])(value)
    return inputs


@pytest.fixture
async def boiler(blueprint_hass: HomeAssistant) -> str:
    await _add_fake(blueprint_hass, "switch", FakeSwitch("Boiler"))
    assert blueprint_hass.states.get(LOAD).state == STATE_OFF
    return LOAD


@pytest.fixture
async def runtime_helper(blueprint_hass: HomeAssistant) -> str:
    assert await async_setup_component(
        blueprint_hass,
        "input_number",
        {
            "input_number": {
                "boiler_runtime_today": {
                    "min": 0,
                    "max": 1440,
                    "step": 1,
                    "unit_of_measurement": "min",
                    "initial": 0,
                }
            }
        },
    )
    return RUNTIME


def _surplus(hass: HomeAssistant, kw: float) -> None:
    hass.states.async_set(SURPLUS, str(kw), {"unit_of_measurement": "kW", "device_class": "power"})


def _load_state(hass: HomeAssistant, entity_id: str = LOAD) -> str:
    return hass.states.get(entity_id).state


async def test_surplus_rises_load_on_then_stops_after_minimum_on_time(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 0.3)
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation("load_shifting.yaml", _load_shifting_inputs())
    await _advance(hass, freezer, _at(9, 11))
    assert _load_state(hass) == STATE_OFF  # 0.3 kW is below the 2 kW start threshold

    _surplus(hass, 3.0)  # the community's plants inject 3 kW more than members withdraw
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_ON

    _surplus(hass, 0.2)  # below the stop threshold, but only 4 minutes after the start
    await _advance(hass, freezer, _at(9, 15))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(9, 25))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(9, 26))  # 15 minutes on: the minimum on time is over
    assert _load_state(hass) == STATE_OFF

    _surplus(hass, 1.2)  # between the thresholds: hysteresis keeps it off
    await _advance(hass, freezer, _at(9, 50))
    assert _load_state(hass) == STATE_OFF
    _surplus(hass, 2.5)
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_ON
    _surplus(hass, 1.2)  # between the thresholds: hysteresis keeps it on
    await _advance(hass, freezer, _at(10, 30))
    assert _load_state(hass) == STATE_ON


async def test_default_stop_threshold_stops_on_a_surplus_that_stays_at_zero(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    """A surplus sensor may stop at 0 W instead of going negative: the default stop is above 0."""
    hass = blueprint_hass
    _surplus(hass, 3.0)
    await _advance(hass, freezer, _at(9, 0))
    inputs = _load_shifting_inputs()
    del inputs["stop_threshold"]
    await setup_automation("load_shifting.yaml", inputs)
    await _advance(hass, freezer, _at(9, 1))
    assert _load_state(hass) == STATE_ON
    _surplus(hass, 0.0)
    await _advance(hass, freezer, _at(9, 16))
    assert _load_state(hass) == STATE_OFF


async def test_minimum_off_time_delays_a_restart(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    hass.states.async_set(SURPLUS, "3", {"unit_of_measurement": "W"})  # 3 W, not 3 kW
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation("load_shifting.yaml", _load_shifting_inputs(min_on_minutes=0))
    await _advance(hass, freezer, _at(9, 20))
    assert _load_state(hass) == STATE_OFF

    hass.states.async_set(SURPLUS, "2500", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_ON
    _surplus(hass, 0.0)
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_OFF  # minimum on time 0
    _surplus(hass, 3.0)
    await _advance(hass, freezer, _at(9, 29))
    assert _load_state(hass) == STATE_OFF  # off for 9 minutes only
    await _advance(hass, freezer, _at(9, 30))
    assert _load_state(hass) == STATE_ON


async def test_deadline_runs_the_load_when_no_surplus_came(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
    runtime_helper: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, -4.0)  # a grey morning: the community withdraws more than it injects
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(
            runtime_entity=RUNTIME, deadline="12:00:00", deadline_runtime_minutes=60
        ),
    )
    await _advance(hass, freezer, _at(10, 59), step_minutes=15)
    await _advance(hass, freezer, _at(10, 59))
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(11, 0))  # the latest start that still makes the deadline
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(11, 30))
    assert _load_state(hass) == STATE_ON  # forced: no surplus, yet it keeps running
    assert float(hass.states.get(RUNTIME).state) == 30
    await _advance(hass, freezer, _at(12, 0))
    assert float(hass.states.get(RUNTIME).state) == 60
    assert _load_state(hass) == STATE_OFF  # done by the deadline, still no surplus


async def test_deadline_counts_what_already_ran_on_surplus(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
    runtime_helper: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 3.0)
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(
            runtime_entity=RUNTIME,
            deadline="12:00:00",
            deadline_runtime_minutes=60,
            min_on_minutes=0,
        ),
    )
    await _advance(hass, freezer, _at(9, 1))  # the first tick after the automation appeared
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(9, 30))
    _surplus(hass, -1.0)  # a cloud: 29 minutes ran on surplus
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_OFF
    assert float(hass.states.get(RUNTIME).state) == 29
    await _advance(hass, freezer, _at(11, 28))
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(11, 29))  # 31 minutes left to run, 31 minutes left
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(12, 0))
    assert _load_state(hass) == STATE_OFF
    assert float(hass.states.get(RUNTIME).state) == 60


async def test_daily_maximum_is_respected_and_resets_at_midnight(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
    runtime_helper: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 5.0)  # a bright day, surplus from morning to evening
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(runtime_entity=RUNTIME, max_runtime_minutes=90),
    )
    await _advance(hass, freezer, _at(8, 0))
    assert _load_state(hass) == STATE_ON  # window opens with surplus
    await _advance(hass, freezer, _at(9, 29))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(9, 30))
    assert float(hass.states.get(RUNTIME).state) == 90
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(17, 59), step_minutes=7)
    assert _load_state(hass) == STATE_OFF  # surplus all afternoon, but the day's budget is spent
    assert float(hass.states.get(RUNTIME).state) == 90

    await _advance(hass, freezer, _at(0, 0, day=1), step_minutes=30)
    assert float(hass.states.get(RUNTIME).state) == 0  # a new day
    await _advance(hass, freezer, _at(8, 0, day=1), step_minutes=30)
    assert _load_state(hass) == STATE_ON


async def test_window_and_days(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 5.0)
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(
            window_start="10:00:00", window_end="15:00:00", weekdays=["mon", "wed"]
        ),
    )
    await _advance(hass, freezer, _at(9, 59), step_minutes=10)
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(10, 0))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(15, 0), step_minutes=10)
    assert _load_state(hass) == STATE_OFF  # the window closed, surplus or not
    # Tuesday is not one of the days
    await _advance(hass, freezer, _at(12, 0, day=1), step_minutes=30)
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(10, 0, day=2), step_minutes=30)
    assert _load_state(hass) == STATE_ON


def _hour_energy(hass: HomeAssistant, injected_wh: float, withdrawn_wh: float, hour: int) -> None:
    """The community's energies of the hour from ``hour``, as the integration shows them."""
    attributes = {
        "unit_of_measurement": "Wh",
        "device_class": "energy",
        "state_class": "total",
        "last_reset": _at(hour).isoformat(),
    }
    hass.states.async_set(HOUR_INJECTED, str(injected_wh), attributes)
    hass.states.async_set(HOUR_WITHDRAWN, str(withdrawn_wh), attributes)


HOURLY_INPUTS = {"hour_injected_entity": HOUR_INJECTED, "hour_withdrawn_entity": HOUR_WITHDRAWN}


async def test_outside_the_window_a_load_run_by_hand_is_left_alone(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, -3.0)
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(window_start="10:00:00", window_end="15:00:00"),
    )
    await _advance(hass, freezer, _at(16, 0), step_minutes=30)
    await hass.services.async_call("switch", "turn_on", {"entity_id": LOAD}, blocking=True)
    # no surplus, but outside the window; 20:00 is the (disabled) deadline's default time
    await _advance(hass, freezer, _at(21, 0))
    assert _load_state(hass) == STATE_ON


async def test_hourly_balance_uses_surplus_banked_earlier_in_the_hour(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    """The GSE nets each clock hour: surplus at 09:10 can be shared with a load at 09:50."""
    hass = blueprint_hass
    _surplus(hass, 0.5)
    await _advance(hass, freezer, _at(9, 49))
    _hour_energy(hass, injected_wh=6000, withdrawn_wh=5000, hour=9)
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(**HOURLY_INPUTS, min_on_minutes=5, min_off_minutes=0),
    )
    await _advance(hass, freezer, _at(9, 50))
    # 0.5 kW now + 1 kWh banked over the last 10 minutes = 6.5 kW available: start
    assert _load_state(hass) == STATE_ON
    _surplus(hass, -1.5)  # the 2 kW load runs: the instant balance is negative...
    _hour_energy(hass, injected_wh=6400, withdrawn_wh=5500, hour=9)
    await _advance(hass, freezer, _at(9, 59))
    assert _load_state(hass) == STATE_ON  # ...but the hour as a whole still has surplus
    _hour_energy(hass, injected_wh=0, withdrawn_wh=0, hour=10)  # a new hour, nothing banked
    await _advance(hass, freezer, _at(10, 0))
    assert _load_state(hass) == STATE_OFF


async def test_figures_of_the_hour_before_bank_nothing(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    """Right after the hour the sensors may still hold the last hour: they must not count."""
    hass = blueprint_hass
    _surplus(hass, 0.5)
    await _advance(hass, freezer, _at(10, 0))
    _hour_energy(hass, injected_wh=9000, withdrawn_wh=5000, hour=9)  # 09:00-10:00, final
    await setup_automation(
        "load_shifting.yaml", _load_shifting_inputs(**HOURLY_INPUTS, min_off_minutes=0)
    )
    await _advance(hass, freezer, _at(10, 5))
    assert _load_state(hass) == STATE_OFF
    _hour_energy(hass, injected_wh=1500, withdrawn_wh=0, hour=10)  # refreshed: 1.5 kWh banked
    await _advance(hass, freezer, _at(10, 10))
    assert _load_state(hass) == STATE_ON  # at 10:01: 0.5 kW + 1.5 kWh / 59 min > 2 kW


async def test_without_the_hourly_sensors_only_the_instant_counts(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 0.5)
    await _advance(hass, freezer, _at(9, 49))
    _hour_energy(hass, injected_wh=6000, withdrawn_wh=5000, hour=9)
    await setup_automation("load_shifting.yaml", _load_shifting_inputs(min_off_minutes=0))
    await _advance(hass, freezer, _at(9, 55))
    assert _load_state(hass) == STATE_OFF


async def test_binary_surplus_sensor(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    hass.states.async_set(SURPLUS_FLAG, STATE_OFF)
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation("load_shifting.yaml", _load_shifting_inputs(surplus_entity=SURPLUS_FLAG))
    await _advance(hass, freezer, _at(9, 30))
    assert _load_state(hass) == STATE_OFF
    hass.states.async_set(SURPLUS_FLAG, STATE_ON)
    await hass.async_block_till_done()
    assert _load_state(hass) == STATE_ON
    hass.states.async_set(SURPLUS_FLAG, STATE_OFF)
    await _advance(hass, freezer, _at(9, 44))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(9, 45))
    assert _load_state(hass) == STATE_OFF


async def test_surplus_sensor_unavailable_counts_as_no_surplus(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    boiler: str,
) -> None:
    hass = blueprint_hass
    _surplus(hass, 3.0)
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation("load_shifting.yaml", _load_shifting_inputs())
    await _advance(hass, freezer, _at(9, 10))
    assert _load_state(hass) == STATE_ON
    hass.states.async_set(SURPLUS, "unavailable")
    await _advance(hass, freezer, _at(9, 25))
    assert _load_state(hass) == STATE_OFF


@pytest.mark.parametrize(
    ("domain", "make_entity", "on_state"),
    [
        ("climate", lambda: FakeClimate("Pompa di calore"), "heat"),
        ("water_heater", lambda: FakeWaterHeater("Scaldacqua"), "electric"),
    ],
)
async def test_climate_and_water_heater_loads(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    *,
    domain: str,
    make_entity: Callable[[], Entity],
    on_state: str,
) -> None:
    entity_id = {"climate": "climate.pompa_di_calore", "water_heater": "water_heater.scaldacqua"}[
        domain
    ]
    entity = make_entity()
    hass = blueprint_hass
    await _add_fake(hass, domain, entity)
    assert _load_state(hass, entity_id) == STATE_OFF
    _surplus(hass, 0.0)
    await _advance(hass, freezer, _at(9, 0))
    await setup_automation("load_shifting.yaml", _load_shifting_inputs(load_entity=entity_id))
    await _advance(hass, freezer, _at(9, 10))
    _surplus(hass, 3.0)
    await hass.async_block_till_done()
    assert _load_state(hass, entity_id) == on_state
    _surplus(hass, -1.0)
    await _advance(hass, freezer, _at(9, 25))
    assert _load_state(hass, entity_id) == STATE_OFF


# --- alert notification -----------------------------------------------------------------------


async def test_repair_issue_of_the_integration_is_notified(
    blueprint_hass: HomeAssistant,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    await setup_automation("alert_notification.yaml", {"notify_service": NOTIFY, "language": "en"})
    ir.async_create_issue(
        hass,
        "cer_community",
        "counter_01JD0000000000000000000000_grid_energy_imported",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="counter_reset",
    )
    await hass.async_block_till_done()
    assert len(notifications) == 1
    assert notifications[0].data["title"] == "CER: Energy counter reset or gone backwards"
    assert (
        "counter_01JD0000000000000000000000_grid_energy_imported"
        in notifications[0].data["message"]
    )
    assert "Repairs" in notifications[0].data["message"]

    # another integration's issue is not ours to report
    ir.async_create_issue(
        hass,
        "other_integration",
        "upload_failed",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="x",
    )
    await hass.async_block_till_done()
    assert len(notifications) == 1


@pytest.mark.parametrize(
    ("issue_id", "title"),
    [
        (
            "upload_rejected_01JD0000000000000000000000",
            "CER: Letture orarie rifiutate dal backend",
        ),
        (
            "upload_refused_01JD0000000000000000000000",
            "CER: Invio delle letture al backend non riuscito",
        ),
        (
            "backend_alert_01JD0000000000000000000000_7",
            "CER: Avviso della comunità dal backend",
        ),
        ("something_new", "CER: Nuovo avviso dell'integrazione CER"),
    ],
)
async def test_repair_issue_kinds_in_italian(
    blueprint_hass: HomeAssistant,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
    issue_id: str,
    title: str,
) -> None:
    hass = blueprint_hass
    persistent = async_mock_service(hass, "persistent_notification", "create")
    await setup_automation(
        "alert_notification.yaml", {"notify_service": NOTIFY, "persistent": True}
    )
    ir.async_create_issue(
        hass,
        "cer_community",
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=issue_id,
    )
    await hass.async_block_till_done()
    assert [call.data["title"] for call in notifications] == [title]
    assert "Riparazioni" in notifications[0].data["message"]
    # persistent: True also leaves it among Home Assistant's notifications
    assert [call.data["title"] for call in persistent] == [title]
    assert persistent[0].data["message"] == notifications[0].data["message"]


async def test_entity_unavailable_and_problem_sensor_are_notified(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    meter = "sensor.municipio_grid_meter_power"
    problem = "binary_sensor.municipio_upload_problem"
    hass.states.async_set(meter, "1200", {"unit_of_measurement": "W", "friendly_name": "SDM630"})
    hass.states.async_set(problem, STATE_OFF)
    await setup_automation(
        "alert_notification.yaml",
        {
            "notify_service": NOTIFY,
            "language": "en",
            "watched_entities": [meter],
            "offline_minutes": 10,
            "problem_entities": [problem],
        },
    )
    hass.states.async_set(meter, "unavailable", {"friendly_name": "SDM630"})
    await _advance(hass, freezer, _at(7, 9))
    assert notifications == []
    await _advance(hass, freezer, _at(7, 11))
    assert len(notifications) == 1
    assert notifications[0].data["message"] == "Meter or inverter not answering: SDM630."

    hass.states.async_set(problem, STATE_ON)
    await hass.async_block_till_done()
    assert len(notifications) == 2
    assert notifications[1].data["title"] == "CER: Problem reported"


async def test_pending_hours_growing_is_notified(
    blueprint_hass: HomeAssistant,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    pending = "sensor.municipio_pending_hours"
    hass.states.async_set(pending, "1", {"friendly_name": "Municipio Pending hours"})
    await setup_automation(
        "alert_notification.yaml",
        {"notify_service": NOTIFY, "pending_entities": [pending], "pending_threshold": 6},
    )
    hass.states.async_set(pending, "6", {"friendly_name": "Municipio Pending hours"})
    await hass.async_block_till_done()
    assert notifications == []
    hass.states.async_set(pending, "7", {"friendly_name": "Municipio Pending hours"})
    await hass.async_block_till_done()
    assert [call.data["message"] for call in notifications] == [
        "Ore non ancora inviate al backend: Municipio Pending hours (7)."
    ]
    hass.states.async_set(pending, "8", {"friendly_name": "Municipio Pending hours"})
    await hass.async_block_till_done()
    assert len(notifications) == 1  # once when crossing the threshold, not every hour


async def test_alert_blueprint_with_no_entities_chosen_still_loads(
    blueprint_hass: HomeAssistant, setup_automation: SetupAutomation
) -> None:
    await setup_automation("alert_notification.yaml", {})


# --- public lighting --------------------------------------------------------------------------


def _sun(hass: HomeAssistant, elevation: float) -> None:
    hass.states.async_set(
        "sun.sun",
        "above_horizon" if elevation > 0 else "below_horizon",
        {"elevation": elevation, "friendly_name": "Sun"},
    )


async def test_lighting_in_daylight_is_notified_once(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    lighting = "sensor.illuminazione_via_roma_power"
    hass.states.async_set(
        lighting, "1.2", {"unit_of_measurement": "kW", "friendly_name": "Illuminazione via Roma"}
    )
    _sun(hass, -8.0)  # night: the lights are supposed to be on
    await setup_automation(
        "public_lighting_check.yaml",
        {
            "lighting_entity": lighting,
            "threshold_w": 100,
            "duration_minutes": 15,
            "notify_service": NOTIFY,
        },
    )
    await _advance(hass, freezer, _at(7, 30))
    assert notifications == []

    _sun(hass, 2.0)  # dawn: switching off may take a while
    await _advance(hass, freezer, _at(8, 0))
    assert notifications == []
    _sun(hass, 9.0)  # full daylight, still 1.2 kW
    await _advance(hass, freezer, _at(8, 14))
    assert notifications == []
    await _advance(hass, freezer, _at(8, 16))
    assert len(notifications) == 1
    assert notifications[0].data["title"] == "CER: illuminazione accesa di giorno"
    assert "Illuminazione via Roma assorbe 1.2 kW" in notifications[0].data["message"]
    await _advance(hass, freezer, _at(10, 0), step_minutes=10)
    assert len(notifications) == 1

    hass.states.async_set(lighting, "30", {"unit_of_measurement": "W"})  # fixed: standby
    await _advance(hass, freezer, _at(11, 0), step_minutes=10)
    assert len(notifications) == 1


async def test_lighting_below_threshold_is_quiet(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    notifications: list[ServiceCall],
) -> None:
    hass = blueprint_hass
    lighting = "sensor.illuminazione_via_roma_power"
    hass.states.async_set(lighting, "60", {"unit_of_measurement": "W"})
    _sun(hass, 40.0)
    await setup_automation(
        "public_lighting_check.yaml", {"lighting_entity": lighting, "notify_service": NOTIFY}
    )
    await _advance(hass, freezer, _at(9, 0), step_minutes=5)
    assert notifications == []


# --- on the integration's own entities --------------------------------------------------------

COMMUNITY_SURPLUS = "sensor.cer_comune_community_surplus_power"
COMMUNITY_FLAG = "binary_sensor.cer_comune_community_surplus"
COMMUNITY_INJECTED = "sensor.cer_comune_community_energy_injected_this_hour"
COMMUNITY_WITHDRAWN = "sensor.cer_comune_community_energy_withdrawn_this_hour"


def _live(stub: BackendStub, injection_w: float, withdrawal_w: float = 0.0) -> None:
    """What the buildings report to the backend: the community's live figures follow."""
    stub.live = {
        POD: {
            "pod": POD,
            "ts": dt_util.utcnow().isoformat(),
            "injection_w": injection_w,
            "withdrawal_w": withdrawal_w,
            "hour_injected_wh": 0,
            "hour_withdrawn_wh": 0,
        }
    }


async def _refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The community coordinator's next poll, now."""
    await get_runtime_data(entry).community.async_refresh()
    await hass.async_block_till_done()


@pytest.fixture
async def community(
    blueprint_hass: HomeAssistant, backend: BackendStub
) -> AsyncIterator[MockConfigEntry]:
    """The community dashboard entry "CER Comune" on the backend stub (no surplus yet)."""
    _live(backend, 0.0, 500.0)
    entry = community_entry(backend)
    await setup_entry(blueprint_hass, entry)
    state = blueprint_hass.states.get(COMMUNITY_SURPLUS)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "W"
    yield entry
    await unload_entry(blueprint_hass, entry)


async def test_load_shifting_on_the_integrations_community_entities(
    blueprint_hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_automation: SetupAutomation,
    *,
    boiler: str,
    runtime_helper: str,
    backend: BackendStub,
    community: MockConfigEntry,
) -> None:
    """Surplus rises → on; falls → off after the minimum on time; deadline; daily maximum."""
    hass = blueprint_hass
    await setup_automation(
        "load_shifting.yaml",
        _load_shifting_inputs(
            surplus_entity=COMMUNITY_SURPLUS,
            hour_injected_entity=COMMUNITY_INJECTED,
            hour_withdrawn_entity=COMMUNITY_WITHDRAWN,
            runtime_entity=RUNTIME,
            max_runtime_minutes=60,
            deadline="17:00:00",
            deadline_runtime_minutes=45,
        ),
    )
    await _advance(hass, freezer, _at(9, 0))
    assert _load_state(hass) == STATE_OFF

    _live(backend, 3000.0)  # the school's PV: 3 kW of surplus
    await _refresh(hass, community)
    assert hass.states.get(COMMUNITY_SURPLUS).state == "3000.0"
    assert hass.states.get(COMMUNITY_FLAG).state == STATE_ON
    assert _load_state(hass) == STATE_ON

    _live(backend, 0.0, 1500.0)  # a cloud: no surplus (the backend reports 0 W)
    await _refresh(hass, community)
    await _advance(hass, freezer, _at(9, 14))
    assert _load_state(hass) == STATE_ON  # minimum on time: 15 minutes
    await _advance(hass, freezer, _at(9, 15))
    assert _load_state(hass) == STATE_OFF
    assert float(hass.states.get(RUNTIME).state) == 15

    await _advance(hass, freezer, _at(10, 0))
    _live(backend, 4000.0)  # sun again from 10:00
    await _refresh(hass, community)
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(10, 44))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(10, 45))  # 15 + 45 minutes: the daily maximum
    assert float(hass.states.get(RUNTIME).state) == 60
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(11, 30))
    assert _load_state(hass) == STATE_OFF  # surplus, but the day's budget is spent

    # Tuesday: grey all day; the deadline starts the load 45 minutes before 17:00
    _live(backend, 0.0, 2500.0)
    await _advance(hass, freezer, _at(16, 0, day=1), step_minutes=30)
    await _refresh(hass, community)
    assert float(hass.states.get(RUNTIME).state) == 0
    await _advance(hass, freezer, _at(16, 14, day=1))
    assert _load_state(hass) == STATE_OFF
    await _advance(hass, freezer, _at(16, 15, day=1))
    assert _load_state(hass) == STATE_ON
    await _advance(hass, freezer, _at(17, 0, day=1))
    assert _load_state(hass) == STATE_OFF
    assert float(hass.states.get(RUNTIME).state) == 45


async def test_alert_on_the_integrations_counter_repair_issue(
    hass: HomeAssistant, tmp_path: Path, sdm630: Sdm630Simulator
) -> None:
    """A meter's counter going backwards: the integration raises its issue, staff hear of it.

    No frozen clock here: the Modbus server and client wait on real time.
    """
    await _prepare(hass, tmp_path)
    notifications = async_mock_service(hass, "notify", "cer_test")
    await _create_automation(
        hass, "alert_notification.yaml", {"notify_service": NOTIFY, "language": "en"}
    )
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    await setup_entry(hass, entry)
    assert notifications == []

    sdm630.set("kwh_import", 100.0)  # from 12345.5 kWh: backwards
    await get_runtime_data(entry).site.async_refresh()
    await hass.async_block_till_done()
    issues = [i for (domain, _), i in ir.async_get(hass).issues.items() if domain == DOMAIN]
    assert issues, "the integration raised no repair issue"
    assert [call.data["title"] for call in notifications] == [
        "CER: Energy counter reset or gone backwards"
    ]
    assert issues[0].issue_id in notifications[0].data["message"]
    await unload_entry(hass, entry)
    await _turn_off_automation(hass)
