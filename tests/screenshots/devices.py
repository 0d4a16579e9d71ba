"""The simulated devices of ``scripts/screenshots``: two buildings of the example community.

Run with the Python of Home Assistant 2026.10 (it has pymodbus)::

    python -m tests.screenshots.devices PORTS.json

starts five real pymodbus servers on free ports of 127.0.0.1 — the town hall (Municipio:
SunSpec inverter, SDM630 at the grid point, EM24 on the public lighting line) and the
school (Scuola: SunSpec inverter, SDM630) — writes their ports to ``PORTS.json`` once every
server accepts connections, and serves until SIGTERM or SIGINT. The figures are those of a
sunny hour and stay the same whatever the time of day (the counters grow with the power, so
the hour's energy fills in); the screenshots never depend on the clock.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from tests.modbus_sim import Em24Simulator, Sdm630Simulator, SunSpecSimulator

#: Seconds between two updates of the energy counters.
TICK_S = 5.0

#: (building, device key) → the power it shows, W (grid: + is withdrawal, − injection).
#: Municipio: 18.4 kW produced, 9.2 kW injected, the lighting line draws 0.35 kW;
#: Scuola: 24.6 kW produced, 15.1 kW injected.
POWER_W = {
    ("municipio", "inverter"): 18_400.0,
    ("municipio", "grid"): -9_200.0,
    ("municipio", "lighting"): 350.0,
    ("scuola", "inverter"): 24_600.0,
    ("scuola", "grid"): -15_100.0,
}


def _inverter(serial: str, watts: float) -> SunSpecSimulator:
    """A three-phase SunSpec inverter (common model 1, model 103, no meter) at ``watts``."""
    sim = SunSpecSimulator(meter_model=None, serial=serial)
    assert sim.inverter is not None
    sim.inverter.set("W", watts)
    sim.inverter.set("DCW", round(watts * 1.03))
    sim.inverter.set("TmpCab", 38.5)
    return sim


def _grid_meter(serial: int, watts: float) -> Sdm630Simulator:
    """An SDM630 at the grid point (+ withdrawal, − injection) at ``watts``."""
    sim = Sdm630Simulator(serial=serial)
    sim.set("total_power", watts)
    for phase in ("power_l1", "power_l2", "power_l3"):
        sim.set(phase, watts / 3)
    return sim


def _lighting(watts: float) -> Em24Simulator:
    """An EM24 on a public lighting line drawing ``watts``."""
    sim = Em24Simulator()
    sim.set("power", watts)
    for phase in ("power_l1", "power_l2", "power_l3"):
        sim.set(phase, watts / 3)
    return sim


#: Where each counter starts: Wh for SunSpec inverters, kWh for the meters.
COUNTER_START = {
    ("municipio", "inverter"): 12_345_678.0,
    ("municipio", "grid"): 678.25,
    ("municipio", "lighting"): 9_876.5,
    ("scuola", "inverter"): 12_345_678.0,
    ("scuola", "grid"): 678.25,
}


def _tick(sims: dict[tuple[str, str], Any], counters: dict[tuple[str, str], float]) -> None:
    """Grow each counter by its power over ``TICK_S`` and write it to its device."""
    for key, sim in sims.items():
        watts = POWER_W[key]
        wh = abs(watts) * TICK_S / 3600
        if isinstance(sim, SunSpecSimulator):
            counters[key] += wh
            assert sim.inverter is not None
            sim.inverter.set("WH", round(counters[key]))
        elif isinstance(sim, Sdm630Simulator):
            counters[key] += wh / 1000  # the grid meters only inject: their export grows
            sim.set("kwh_export", round(counters[key], 3))
        else:
            counters[key] += wh / 1000
            sim.set("kwh_import", round(counters[key], 1))


async def serve(ports_file: Path) -> None:
    """Start the devices, publish their ports, tick until a signal."""
    sims: dict[tuple[str, str], Any] = {
        ("municipio", "inverter"): _inverter("SIM-MUN-0001", POWER_W[("municipio", "inverter")]),
        ("municipio", "grid"): _grid_meter(20260101, POWER_W[("municipio", "grid")]),
        ("municipio", "lighting"): _lighting(POWER_W[("municipio", "lighting")]),
        ("scuola", "inverter"): _inverter("SIM-SCU-0001", POWER_W[("scuola", "inverter")]),
        ("scuola", "grid"): _grid_meter(20260201, POWER_W[("scuola", "grid")]),
    }
    for sim in sims.values():
        await sim.start()
    ports = {f"{building}.{key}": sim.port for (building, key), sim in sims.items()}
    partial = ports_file.with_suffix(".partial")
    partial.write_text(json.dumps(ports), encoding="utf-8")
    partial.rename(ports_file)  # whoever waits for the file sees it whole
    print(f"devices: {ports}", flush=True)
    counters = dict(COUNTER_START)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), TICK_S)
        except TimeoutError:
            _tick(sims, counters)
    for sim in sims.values():
        await sim.stop()


def main(argv: list[str]) -> int:
    """``devices PORTS.json``."""
    if len(argv) != 1:
        print("usage: python -m tests.screenshots.devices PORTS.json", file=sys.stderr)
        return 2
    asyncio.run(serve(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
