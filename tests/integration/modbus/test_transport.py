"""Transport failures of both pymodbus ends, per-unit back-off behind a shared gateway, and
one connection per device however its host is spelt (issue #14, items 1, 3 and 6).

The misbehaving devices are :class:`tests.modbus_sim.HandWrittenModbusServer`: pymodbus'
own server cannot drop a session in the middle of a request or stay silent for one unit.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from custom_components.cer_community.modbus import (
    ModbusConnection,
    ModbusUnavailable,
    acquire_connection,
    release_connection,
)
from custom_components.cer_community.modbus.connection import canonical_host
from tests.modbus_sim import HandWrittenModbusServer, ModbusSimulator

REGISTERS = {0: 11, 1: 12}


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """What reaches the event loop's exception handler during the test (for example
    "Future exception was never retrieved" from a future pymodbus failed and forgot)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    gc.collect()  # a forgotten failed future reports itself when collected
    await asyncio.sleep(0)
    loop.set_exception_handler(previous)


def _connect(server: HandWrittenModbusServer, **settings: float) -> ModbusConnection:
    options: dict[str, float] = {"timeout": 0.3, "reconnect_delay": 0.01, **settings}
    return acquire_connection("127.0.0.1", server.port, **options)


async def test_session_closed_during_a_request_is_unavailable(
    socket_enabled: None, loop_errors: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """The device closes the session when it gets the request: on pymodbus 3.6.6 this was
    ``AttributeError: 'NoneType' object has no attribute 'write'`` plus a future never
    retrieved; on every end it is ``ModbusUnavailable``, and the next request reconnects."""
    async with HandWrittenModbusServer({1: "close"}, REGISTERS) as server:
        connection = _connect(server)
        try:
            for _ in range(3):
                with pytest.raises(ModbusUnavailable, match="closed by the device"):
                    await connection.read_registers(1, 0, 2)
            assert connection.unit_backoff(1) == 0  # the unit did nothing wrong
            server.behaviour[1] = "answer"
            assert await connection.read_registers(1, 0, 2) == [11, 12]
            assert server.connections == 4
        finally:
            await release_connection(connection)
    gc.collect()
    await asyncio.sleep(0.05)
    assert [context.get("message") for context in loop_errors] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_session_reset_by_the_device_is_unavailable(
    socket_enabled: None, loop_errors: list[dict[str, Any]]
) -> None:
    """A session the device already closed before the request: reconnects, no leftovers."""
    async with HandWrittenModbusServer({1: "answer"}, REGISTERS) as server:
        connection = _connect(server)
        try:
            assert await connection.read_registers(1, 0, 2) == [11, 12]
            for writer in list(server._writers):
                writer.close()
            await asyncio.sleep(0.05)
            assert await connection.read_registers(1, 0, 2) == [11, 12]
            assert server.connections == 2
        finally:
            await release_connection(connection)
    gc.collect()
    await asyncio.sleep(0.05)
    assert [context.get("message") for context in loop_errors] == []


async def test_silent_unit_backs_off_and_keeps_the_session(socket_enabled: None) -> None:
    """Units 1 and 2 answer behind a gateway, unit 3 is silent: after its first timeout unit
    3 is asked again only after growing pauses (capped), the others are read at once, and the
    one TCP session is never closed."""
    async with HandWrittenModbusServer({1: "answer", 2: "answer", 3: "silent"}) as server:
        connection = _connect(server, unit_backoff=0.4, unit_backoff_max=0.8)
        loop = asyncio.get_running_loop()
        try:
            with pytest.raises(ModbusUnavailable, match="no answer"):
                await connection.read_registers(3, 0, 1)
            assert 0.3 < connection.unit_backoff(3) <= 0.4
            started = loop.time()
            for _ in range(5):  # polls during the back-off: no request, no waiting
                assert await connection.read_registers(1, 0, 1) == [0]
                with pytest.raises(ModbusUnavailable, match="no request sent"):
                    await connection.read_registers(3, 0, 1)
                assert await connection.read_registers(2, 0, 1) == [0]
            assert loop.time() - started < 0.25
            assert server.requests[3] == 1
            await asyncio.sleep(0.45)
            with pytest.raises(ModbusUnavailable, match="no answer"):
                await connection.read_registers(3, 0, 1)
            assert server.requests[3] == 2
            assert 0.7 < connection.unit_backoff(3) <= 0.8  # doubled
            await asyncio.sleep(0.85)
            with pytest.raises(ModbusUnavailable, match="no answer"):
                await connection.read_registers(3, 0, 1)
            assert 0.7 < connection.unit_backoff(3) <= 0.8  # capped
            assert await connection.read_registers(1, 0, 1) == [0]
            assert server.connections == 1
            # the unit comes back: read again after its pause, back-off forgotten
            server.behaviour[3] = "answer"
            await asyncio.sleep(0.85)
            assert await connection.read_registers(3, 0, 1) == [0]
            assert connection.unit_backoff(3) == 0
            assert server.connections == 1
        finally:
            await release_connection(connection)


async def test_gateway_exception_backs_the_unit_off(socket_enabled: None) -> None:
    """Exception 0x0B (gateway target failed to respond) is a silent unit too."""
    async with HandWrittenModbusServer({1: "answer", 4: "exception:11"}) as server:
        connection = _connect(server, unit_backoff=5)
        try:
            with pytest.raises(ModbusUnavailable, match="exception code 11"):
                await connection.read_registers(4, 0, 1)
            with pytest.raises(ModbusUnavailable, match="no request sent"):
                await connection.read_registers(4, 0, 1)
            assert server.requests[4] == 1
            assert await connection.read_registers(1, 0, 1) == [0]
        finally:
            await release_connection(connection)


async def test_stalled_session_is_reopened(socket_enabled: None) -> None:
    """When no unit answers several requests in a row, the session is closed and the next
    request opens a new one."""
    async with HandWrittenModbusServer({1: "silent", 2: "silent", 3: "silent"}) as server:
        connection = _connect(server, unit_backoff=5)
        try:
            for unit in (1, 2, 3):
                with pytest.raises(ModbusUnavailable, match="no answer"):
                    await connection.read_registers(unit, 0, 1)
            assert not connection.connected
            server.behaviour[4] = "answer"
            assert await connection.read_registers(4, 0, 1) == [0]
            assert server.connections == 2
        finally:
            await release_connection(connection)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("localhost", "127.0.0.1"),
        (" LocalHost. ", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[0:0::1]", "::1"),
        ("Inverter.Local", "inverter.local"),
    ],
)
def test_canonical_host(spelling: str, canonical: str) -> None:
    """One spelling per host: the key of the shared connection."""
    assert canonical_host(spelling) == canonical


async def test_localhost_and_loopback_share_one_connection(socket_enabled: None) -> None:
    """Two devices configured as ``localhost`` and ``127.0.0.1`` use one session."""
    async with ModbusSimulator(holding={0: 7}) as sim:
        first = acquire_connection("localhost", sim.port, timeout=0.5)
        second = acquire_connection("127.0.0.1", sim.port, timeout=0.5)
        try:
            assert first is second
            assert first.users == 2
            assert str(first.key) == f"tcp://127.0.0.1:{sim.port}"
            assert await first.read_registers(1, 0, 1) == [7]
        finally:
            await release_connection(first)
            await release_connection(second)
