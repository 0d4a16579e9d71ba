"""Sensors: device readings, the site's hour so far and uploads, community figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .alerts import OpenAlertsSensor
from .api import CommunityLive
from .compat import get_runtime_data
from .const import DeviceRole
from .coordinator import Reading
from .entity import (
    CerCommunityEntity,
    CerDeviceEntity,
    CerSiteEntity,
    community_device_info,
)
from .modbus.quantities import Quantity, module_of
from .money import CommunityMoney, MoneyCoordinator
from .runtime import CommunityRuntimeData, SiteRuntimeData
from .site_shares import async_track_site_shares

# Entities only read coordinator data: no limit on parallel updates.
PARALLEL_UPDATES = 0

#: SunSpec operating states (model 101-103 ``St``) as enum options.
INVERTER_STATES: dict[int, str] = {
    1: "off",
    2: "sleeping",
    3: "starting",
    4: "mppt",
    5: "throttled",
    6: "shutting_down",
    7: "fault",
    8: "standby",
}


@dataclass(frozen=True, kw_only=True)
class CerDeviceSensorDescription(SensorEntityDescription):
    """A quantity of a device reading."""

    value_fn: Callable[[Reading], StateType]


def _quantity(quantity: Quantity) -> Callable[[Reading], StateType]:
    return lambda reading: reading.get(quantity)


def _inverter_state(reading: Reading) -> StateType:
    state = reading.get(Quantity.INVERTER_STATE)
    return None if state is None else INVERTER_STATES.get(int(state))


def _energy(quantity: Quantity) -> CerDeviceSensorDescription:
    return CerDeviceSensorDescription(
        key=str(quantity),
        translation_key=str(quantity),
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_quantity(quantity),
    )


def _phase(
    quantity: Quantity, device_class: SensorDeviceClass, unit: str, precision: int
) -> CerDeviceSensorDescription:
    return CerDeviceSensorDescription(
        key=str(quantity),
        translation_key=str(quantity),
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_quantity(quantity),
    )


_V = UnitOfElectricPotential.VOLT
_A = UnitOfElectricCurrent.AMPERE
_W = UnitOfPower.WATT
Q = Quantity

DEVICE_SENSORS: tuple[CerDeviceSensorDescription, ...] = (
    CerDeviceSensorDescription(
        key=str(Q.ACTIVE_POWER),
        translation_key=str(Q.ACTIVE_POWER),
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=_W,
        suggested_display_precision=0,
        value_fn=_quantity(Q.ACTIVE_POWER),
    ),
    _energy(Q.ENERGY_IMPORTED),
    _energy(Q.ENERGY_EXPORTED),
    _energy(Q.ENERGY_PRODUCED),
    _phase(Q.VOLTAGE_L1, SensorDeviceClass.VOLTAGE, _V, 1),
    _phase(Q.VOLTAGE_L2, SensorDeviceClass.VOLTAGE, _V, 1),
    _phase(Q.VOLTAGE_L3, SensorDeviceClass.VOLTAGE, _V, 1),
    _phase(Q.CURRENT_L1, SensorDeviceClass.CURRENT, _A, 2),
    _phase(Q.CURRENT_L2, SensorDeviceClass.CURRENT, _A, 2),
    _phase(Q.CURRENT_L3, SensorDeviceClass.CURRENT, _A, 2),
    _phase(Q.POWER_L1, SensorDeviceClass.POWER, _W, 0),
    _phase(Q.POWER_L2, SensorDeviceClass.POWER, _W, 0),
    _phase(Q.POWER_L3, SensorDeviceClass.POWER, _W, 0),
    CerDeviceSensorDescription(
        key=str(Q.FREQUENCY),
        translation_key=str(Q.FREQUENCY),
        device_class=SensorDeviceClass.FREQUENCY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_quantity(Q.FREQUENCY),
    ),
    CerDeviceSensorDescription(
        key=str(Q.DC_POWER),
        translation_key=str(Q.DC_POWER),
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=_W,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_quantity(Q.DC_POWER),
    ),
    CerDeviceSensorDescription(
        key=str(Q.TEMPERATURE),
        translation_key=str(Q.TEMPERATURE),
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_quantity(Q.TEMPERATURE),
    ),
    CerDeviceSensorDescription(
        key=str(Q.STATE_OF_CHARGE),
        translation_key=str(Q.STATE_OF_CHARGE),
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_quantity(Q.STATE_OF_CHARGE),
    ),
    CerDeviceSensorDescription(
        key=str(Q.STORED_ENERGY),
        translation_key=str(Q.STORED_ENERGY),
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_quantity(Q.STORED_ENERGY),
    ),
    CerDeviceSensorDescription(
        key=str(Q.INVERTER_STATE),
        translation_key=str(Q.INVERTER_STATE),
        device_class=SensorDeviceClass.ENUM,
        options=list(INVERTER_STATES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_inverter_state,
    ),
)


@dataclass(frozen=True, slots=True)
class ModuleSensorTemplate:
    """The sensor of a quantity measured on each MPPT input (SunSpec model 160)."""

    translation_key: str
    """Its name, with the input number as the ``module`` placeholder."""
    device_class: SensorDeviceClass
    unit: str
    precision: int
    enabled_up_to: int
    """Enabled by default while the inverter has at most this many inputs (0: never):
    diagnostics that would fill the device page are there to be turned on."""


#: Per-MPPT-input sensors, diagnostic (issue #14 item 8): the DC power of each string is
#: enabled on a usual inverter (up to 4 inputs), its voltage and current on demand.
MODULE_SENSORS: dict[Quantity, ModuleSensorTemplate] = {
    Q.DC_POWER: ModuleSensorTemplate("mppt_dc_power", SensorDeviceClass.POWER, _W, 0, 4),
    Q.DC_VOLTAGE: ModuleSensorTemplate("mppt_dc_voltage", SensorDeviceClass.VOLTAGE, _V, 1, 0),
    Q.DC_CURRENT: ModuleSensorTemplate("mppt_dc_current", SensorDeviceClass.CURRENT, _A, 2, 0),
}


def _module_description(
    quantity: Quantity, template: ModuleSensorTemplate, module: int, modules: int
) -> CerDeviceSensorDescription:
    return CerDeviceSensorDescription(
        key=str(quantity),
        translation_key=template.translation_key,
        translation_placeholders={"module": str(module)},
        device_class=template.device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=template.unit,
        suggested_display_precision=template.precision,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=modules <= template.enabled_up_to,
        value_fn=_quantity(quantity),
    )


def device_sensor_descriptions(keys: Iterable[str]) -> list[CerDeviceSensorDescription]:
    """The sensors of a device whose readings have ``keys``: those of
    :data:`DEVICE_SENSORS`, then per MPPT input those of :data:`MODULE_SENSORS`."""
    present = set(keys)
    descriptions = [d for d in DEVICE_SENSORS if d.key in present]
    per_module: list[tuple[int, int, Quantity]] = []
    order = list(MODULE_SENSORS)
    for key in present:
        try:
            found = module_of(Quantity(key))
        except ValueError:  # a key of a newer version, or not a quantity
            continue
        if found is not None and found[0] in MODULE_SENSORS:
            per_module.append((found[1], order.index(found[0]), Quantity(key)))
    modules = max((module for module, _, _ in per_module), default=0)
    for module, index, quantity in sorted(per_module):
        template = MODULE_SENSORS[order[index]]
        descriptions.append(_module_description(quantity, template, module, modules))
    return descriptions


#: Quantities that mean nothing for a device in a role: a meter on a load line (lighting, a
#: building's consumption) never exports, so it has no "exported energy" entity.
ROLE_HIDDEN_QUANTITIES: dict[DeviceRole, frozenset[str]] = {
    DeviceRole.LOAD: frozenset({str(Q.ENERGY_EXPORTED)}),
}


@dataclass(frozen=True, kw_only=True)
class CerSiteSensorDescription(SensorEntityDescription):
    """A figure of the site: its hour so far or its uploads."""

    value_fn: Callable[[SiteRuntimeData], StateType | datetime]
    last_reset_fn: Callable[[SiteRuntimeData], datetime | None] | None = None
    needs_backend: bool = False


def _hour_start(runtime: SiteRuntimeData) -> datetime | None:
    figures = runtime.site.data
    return None if figures is None else figures.hour_start


def _hour(attribute: str) -> Callable[[SiteRuntimeData], StateType]:
    def value(runtime: SiteRuntimeData) -> StateType:
        figures = runtime.site.data
        if figures is None:
            return None
        result: StateType = getattr(figures, attribute)
        return None if result is None else round(float(result), 1)

    return value


def _hour_energy(key: str, attribute: str) -> CerSiteSensorDescription:
    return CerSiteSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_display_precision=0,
        value_fn=_hour(attribute),
        last_reset_fn=_hour_start,
    )


def _site_power(key: str, attribute: str) -> CerSiteSensorDescription:
    return CerSiteSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=_W,
        suggested_display_precision=0,
        value_fn=_hour(attribute),
    )


SITE_SENSORS: tuple[CerSiteSensorDescription, ...] = (
    _hour_energy("hour_injected_energy", "injected_wh"),
    _hour_energy("hour_withdrawn_energy", "withdrawn_wh"),
    _hour_energy("hour_self_consumed_energy", "self_consumed_wh"),
    _site_power("injection_power", "injection_w"),
    _site_power("withdrawal_power", "withdrawal_w"),
    CerSiteSensorDescription(
        key="last_upload",
        translation_key="last_upload",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda runtime: runtime.uploader.status.last_success,
        needs_backend=True,
    ),
    CerSiteSensorDescription(
        key="pending_hours",
        translation_key="pending_hours",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda runtime: runtime.uploader.status.pending_hours,
        needs_backend=True,
    ),
)


@dataclass(frozen=True, kw_only=True)
class CerCommunitySensorDescription(SensorEntityDescription):
    """A live figure of the community."""

    value_fn: Callable[[CommunityLive], StateType]
    resets_hourly: bool = False


def _community_energy(key: str, value_fn: Callable[[CommunityLive], StateType]) -> Any:
    return CerCommunitySensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_display_precision=0,
        value_fn=value_fn,
        resets_hourly=True,
    )


COMMUNITY_SENSORS: tuple[CerCommunitySensorDescription, ...] = (
    _community_energy("community_shared_energy", lambda live: live.shared_wh),
    _community_energy("community_injected_energy", lambda live: live.injected_wh),
    _community_energy("community_withdrawn_energy", lambda live: live.withdrawn_wh),
    CerCommunitySensorDescription(
        key="community_surplus_power",
        translation_key="community_surplus_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=_W,
        suggested_display_precision=0,
        value_fn=lambda live: live.surplus_w,
    ),
    CerCommunitySensorDescription(
        key="tip_estimate",
        translation_key="tip_estimate",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="€/MWh",
        suggested_display_precision=2,
        value_fn=lambda live: live.tip_estimate_eur_mwh,
    ),
    CerCommunitySensorDescription(
        key="sites_reporting",
        translation_key="sites_reporting",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda live: live.sites_reporting,
    ),
    CerCommunitySensorDescription(
        key="sites_expected",
        translation_key="sites_expected",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda live: live.sites_expected,
    ),
    CerCommunitySensorDescription(
        key="sites_total",
        translation_key="sites_total",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda live: live.sites_total,
    ),
)


@dataclass(frozen=True, kw_only=True)
class CerMoneySensorDescription(SensorEntityDescription):
    """A figure of the community's day or month (backend summary)."""

    value_fn: Callable[[CommunityMoney], StateType | Decimal]
    last_reset_fn: Callable[[CommunityMoney], datetime] | None = None


def _money(key: str, value_fn: Callable[[CommunityMoney], Decimal], reset: str) -> Any:
    return CerMoneySensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=value_fn,
        last_reset_fn=(lambda m: m.day_start) if reset == "day" else (lambda m: m.month_start),
    )


def _shared(key: str, value_fn: Callable[[CommunityMoney], int], reset: str) -> Any:
    return CerMoneySensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=value_fn,
        last_reset_fn=(lambda m: m.day_start) if reset == "day" else (lambda m: m.month_start),
    )


#: Money on the staff dashboard (issue #14 item 11): the community entry only.
MONEY_SENSORS: tuple[CerMoneySensorDescription, ...] = (
    _shared("community_shared_energy_today", lambda m: m.today_shared_wh, "day"),
    _money("community_estimated_income_today", lambda m: m.today_estimated_eur, "day"),
    _shared("community_shared_energy_month", lambda m: m.month_shared_wh, "month"),
    _money("community_estimated_income_month", lambda m: m.month_estimated_eur, "month"),
    CerMoneySensorDescription(
        key="community_average_tip_month",
        translation_key="community_average_tip_month",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="€/MWh",
        suggested_display_precision=2,
        value_fn=lambda m: m.month_average_tip_eur_mwh,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Create the sensors of a site or of a community entry."""
    runtime = get_runtime_data(entry)
    entities: list[SensorEntity] = []
    if isinstance(runtime, CommunityRuntimeData):
        entities.extend(
            CerCommunitySensor(runtime.community, description) for description in COMMUNITY_SENSORS
        )
        if runtime.alerts is not None:
            entities.append(OpenAlertsSensor(runtime.alerts))
        if runtime.money is not None:
            entities.extend(
                CerMoneySensor(runtime.money, description) for description in MONEY_SENSORS
            )
            async_track_site_shares(hass, entry, runtime.money, async_add_entities)
        async_add_entities(entities)
        return
    assert isinstance(runtime, SiteRuntimeData)
    for coordinator in runtime.devices.values():
        quantities = set(coordinator.device.quantities) or {str(q) for q in coordinator.data or {}}
        quantities -= ROLE_HIDDEN_QUANTITIES.get(coordinator.device.role, frozenset())
        entities.extend(
            CerDeviceSensor(coordinator, description, runtime.site_device_id)
            for description in device_sensor_descriptions(quantities)
        )
    has_backend = runtime.uploader.api is not None
    entities.extend(
        CerSiteSensor(runtime, description)
        for description in SITE_SENSORS
        if has_backend or not description.needs_backend
    )
    entities.extend(
        CerCommunitySensor(runtime.community, description) for description in COMMUNITY_SENSORS
    )
    async_add_entities(entities)


class CerDeviceSensor(CerDeviceEntity, SensorEntity):
    """A quantity read from a device."""

    entity_description: CerDeviceSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value of the last good reading."""
        return self.entity_description.value_fn(self.coordinator.data or {})


class CerSiteSensor(CerSiteEntity, SensorEntity):
    """The site's hour so far, power now, or upload health."""

    entity_description: CerSiteSensorDescription

    def __init__(self, runtime: SiteRuntimeData, description: CerSiteSensorDescription) -> None:
        """Keep the runtime data: upload figures come from the uploader."""
        super().__init__(runtime.site, description)
        self._runtime = runtime

    @property
    def native_value(self) -> StateType | datetime:
        """The figure now."""
        return self.entity_description.value_fn(self._runtime)

    @property
    def last_reset(self) -> datetime | None:
        """Start of the hour for the hour-so-far energies."""
        if self.entity_description.last_reset_fn is None:
            return None
        return self.entity_description.last_reset_fn(self._runtime)


class CerCommunitySensor(CerCommunityEntity, SensorEntity):
    """A live figure of the community."""

    entity_description: CerCommunitySensorDescription

    @property
    def native_value(self) -> StateType:
        """The figure of the last answer."""
        data: CommunityLive | None = self.coordinator.data
        return None if data is None else self.entity_description.value_fn(data)

    @property
    def last_reset(self) -> datetime | None:
        """Start of the hour for this hour's energies."""
        if not self.entity_description.resets_hourly or self.coordinator.data is None:
            return None
        return self.coordinator.data.hour_start


class CerMoneySensor(CoordinatorEntity[MoneyCoordinator], SensorEntity):
    """Today's or this month's shared energy or estimated income of the community."""

    _attr_has_entity_name = True
    entity_description: CerMoneySensorDescription

    def __init__(
        self, coordinator: MoneyCoordinator, description: CerMoneySensorDescription
    ) -> None:
        """On the community's device; unique id from the entry and the figure."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.entry
        self._attr_unique_id = f"community_{entry.entry_id}_{description.key}"
        self._attr_device_info = community_device_info(entry, coordinator.hass.config.language)

    @property
    def native_value(self) -> StateType | Decimal:
        """The figure of the last summary."""
        data: CommunityMoney | None = self.coordinator.data
        return None if data is None else self.entity_description.value_fn(data)

    @property
    def last_reset(self) -> datetime | None:
        """Start of the day or month the figure counts from."""
        data: CommunityMoney | None = self.coordinator.data
        reset = self.entity_description.last_reset_fn
        return None if data is None or reset is None else reset(data)
