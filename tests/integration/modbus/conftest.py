"""Fixtures: simulators from ``tests.modbus_sim`` and shared connections to them.

Every fixture that opens a socket depends on ``socket_enabled`` (the Home Assistant test
harness blocks sockets otherwise) and connects to the literal ``127.0.0.1``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from custom_components.cer_community.modbus import (
    ModbusConnection,
    acquire_connection,
    release_connection,
)
from tests.modbus_sim import (
    Em24Simulator,
    ModbusSimulator,
    Sdm120Simulator,
    Sdm630Simulator,
    SunSpecSimulator,
)

Connect = Callable[[ModbusSimulator], ModbusConnection]


@pytest.fixture
async def sunspec_sim(socket_enabled: None) -> AsyncIterator[SunSpecSimulator]:
    """SunSpec device at 40000: common model 1 (L = 66), inverter 103, meter 203."""
    async with SunSpecSimulator() as sim:
        yield sim


@pytest.fixture
async def sdm630_sim(socket_enabled: None) -> AsyncIterator[Sdm630Simulator]:
    """Eastron SDM630."""
    async with Sdm630Simulator() as sim:
        yield sim


@pytest.fixture
async def sdm120_sim(socket_enabled: None) -> AsyncIterator[Sdm120Simulator]:
    """Eastron SDM120."""
    async with Sdm120Simulator() as sim:
        yield sim


@pytest.fixture
async def em24_sim(socket_enabled: None) -> AsyncIterator[Em24Simulator]:
    """Carlo Gavazzi EM24 Ethernet."""
    async with Em24Simulator() as sim:
        yield sim


@pytest.fixture
async def connect(socket_enabled: None) -> AsyncIterator[Connect]:
    """``connect(sim)``: a shared connection to ``sim`` (short timeout and backoff),
    released at the end of the test."""
    acquired: list[ModbusConnection] = []

    def _connect(sim: ModbusSimulator) -> ModbusConnection:
        connection = acquire_connection(
            "127.0.0.1", sim.port, timeout=0.5, reconnect_delay=0.05, reconnect_delay_max=0.2
        )
        acquired.append(connection)
        return connection

    yield _connect
    for connection in acquired:
        await release_connection(connection)


AsyncCall = Callable[[], Awaitable[object]]
