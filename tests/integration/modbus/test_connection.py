"""Shared connections, unavailability and recovery, logging, pymodbus version differences."""

from __future__ import annotations

import asyncio
import inspect
import logging

import pymodbus
import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu import ExceptionResponse

from custom_components.cer_community.modbus import (
    UNIT_KEYWORD,
    ModbusProtocolError,
    ModbusUnavailable,
    Quantity,
    acquire_connection,
    acquire_serial_connection,
    build_device,
    release_connection,
)
from custom_components.cer_community.modbus.connection import unit_kwargs
from tests.modbus_sim import ModbusSimulator, Sdm630Simulator, SunSpecSimulator, free_port

from .conftest import Connect

LIBRARY_LOGGER = "custom_components.cer_community.modbus"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


def test_unit_keyword_follows_pymodbus_version() -> None:
    """``slave=`` up to 3.9, ``device_id=`` from 3.10, decided from the signature."""
    expected = "device_id" if _version(pymodbus.__version__) >= (3, 10) else "slave"
    assert expected == UNIT_KEYWORD
    parameters = inspect.signature(AsyncModbusTcpClient.read_input_registers).parameters
    assert UNIT_KEYWORD in parameters
    assert unit_kwargs(7) == {UNIT_KEYWORD: 7}
    assert unit_kwargs(7, "slave") == {"slave": 7}


async def test_unit_id_reaches_the_device(socket_enabled: None, connect: Connect) -> None:
    """A server answering only unit 7: unit 7 reads, unit 8 gets no data."""
    async with ModbusSimulator(holding={0: 11, 1: 12}, unit=7) as sim:
        connection = connect(sim)
        assert await connection.read_registers(7, 0, 2) == [11, 12]
        with pytest.raises(Exception) as caught:
            await connection.read_registers(8, 0, 2)
        assert type(caught.value).__name__ in {"ModbusUnavailable", "ModbusProtocolError"}
        assert await connection.read_registers(7, 0, 2) == [11, 12]


async def test_shared_connection_two_devices(
    sunspec_sim: SunSpecSimulator, connect: Connect
) -> None:
    """Two devices (two config entries) on one host:port share one connection."""
    first = connect(sunspec_sim)
    second = connect(sunspec_sim)
    assert first is second
    assert first.users == 2
    inverter = await build_device(first, 1, "sunspec", {"model_id": 103})
    meter = await build_device(second, 2, "sunspec", {"model_id": 203})
    # concurrent polls are serialised on the one socket
    results = await asyncio.gather(*(d.read() for d in (inverter, meter, inverter, meter)))
    assert results[0][Quantity.ACTIVE_POWER] == 5800
    assert results[1][Quantity.ACTIVE_POWER] == -1500
    assert results[2] == results[0]
    assert results[3] == results[1]
    client = first._client
    await inverter.read()
    assert first._client is client


async def test_release_closes_last(socket_enabled: None) -> None:
    """The connection lives until the last user releases it; then a new one is made."""
    async with ModbusSimulator(holding={0: 1}) as sim:
        one = acquire_connection("127.0.0.1", sim.port)
        two = acquire_connection("127.0.0.1", sim.port)
        assert await one.read_registers(1, 0, 1) == [1]
        await release_connection(one)
        assert two.connected
        assert await two.read_registers(1, 0, 1) == [1]
        await release_connection(two)
        assert not two.connected
        with pytest.raises(ModbusUnavailable, match="released"):
            await two.read_registers(1, 0, 1)
        three = acquire_connection("127.0.0.1", sim.port)
        assert three is not two
        assert await three.read_registers(1, 0, 1) == [1]
        await release_connection(three)


async def test_nothing_listening(socket_enabled: None, connect: Connect) -> None:
    """A host where nothing listens: unavailable at build time (retry later)."""
    sim = ModbusSimulator(holding={0: 1}, port=free_port())  # never started
    with pytest.raises(ModbusUnavailable, match="cannot connect"):
        await build_device(connect(sim), 1, "sdm630")


async def test_disappears_and_recovers_with_one_log_line_each(
    socket_enabled: None, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """Server stopped → ModbusUnavailable on every poll, logged once; back → logged once."""
    caplog.set_level(logging.DEBUG, logger="pymodbus")
    caplog.set_level(logging.INFO, logger=LIBRARY_LOGGER)
    async with Sdm630Simulator() as sim:
        connection = connect(sim)
        device = await build_device(connection, 1, "sdm630", {"name": "Meter A"})
        assert (await device.read())[Quantity.ACTIVE_POWER] == 2700.0
        caplog.clear()
        await sim.stop()
        for _ in range(6):  # a night of polls
            with pytest.raises(ModbusUnavailable):
                await device.read()
            await asyncio.sleep(0.05)
        assert device.available is False
        ours = [r for r in caplog.records if r.name.startswith(LIBRARY_LOGGER)]
        assert len([r for r in ours if r.levelno >= logging.INFO]) == 1
        assert "Meter A is unavailable" in ours[0].getMessage()
        # pymodbus' own warnings/errors about our requests are not shown at their level
        loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert loud == [], [r.getMessage() for r in loud]
        caplog.clear()
        sim.set("total_power", 1234.0)
        await sim.start()
        await asyncio.sleep(0.25)  # past the (test-sized) backoff
        values = await device.read()
        assert values[Quantity.ACTIVE_POWER] == 1234.0
        assert device.available is True
        await device.read()
    ours = [
        r for r in caplog.records if r.name.startswith(LIBRARY_LOGGER) and r.levelno >= logging.INFO
    ]
    assert [r.getMessage() for r in ours] == ["Meter A is answering again"]


async def test_backoff_spares_the_network(socket_enabled: None) -> None:
    """While the backoff runs, a poll fails at once without a connect attempt."""
    sim = ModbusSimulator(holding={0: 1}, port=free_port())
    connection = acquire_connection(
        "127.0.0.1", sim.port, timeout=0.5, reconnect_delay=30, reconnect_delay_max=60
    )
    try:
        with pytest.raises(ModbusUnavailable, match="cannot connect"):
            await connection.read_registers(1, 0, 1)
        await sim.start()  # back, but the backoff still runs
        with pytest.raises(ModbusUnavailable, match="next attempt in"):
            await connection.read_registers(1, 0, 1)
        connection.reset_backoff()  # e.g. the user pressed "test connection"
        assert await connection.read_registers(1, 0, 1) == [1]
    finally:
        await release_connection(connection)
        await sim.stop()


async def test_asleep_inverter_logs_its_state(
    sunspec_sim: SunSpecSimulator, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """An inverter that went to sleep (St = SLEEPING) before vanishing is logged as asleep,
    at debug level (asleep at night is not an error)."""
    caplog.set_level(logging.DEBUG, logger=LIBRARY_LOGGER)
    device = await build_device(connect(sunspec_sim), 1, "sunspec", {"name": "Inverter"})
    sunspec_sim.inverter.set("St", 2)  # type: ignore[union-attr]
    await device.read()
    await sunspec_sim.stop()
    for _ in range(3):
        with pytest.raises(ModbusUnavailable):
            await device.read()
    records = [
        r
        for r in caplog.records
        if r.name.startswith(LIBRARY_LOGGER) and "unavailable" in r.getMessage()
    ]
    assert len(records) == 1
    assert "asleep, last state 2" in records[0].getMessage()
    assert records[0].levelno == logging.DEBUG


async def test_timeout_is_unavailable(socket_enabled: None, connect: Connect) -> None:
    """A device that accepts the connection but never answers: ModbusUnavailable."""

    handlers: list[asyncio.Task[None]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        while await reader.read(1024):  # swallow requests until the client hangs up
            pass
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = acquire_connection("127.0.0.1", port, timeout=0.3, reconnect_delay=0.05)
    try:
        with pytest.raises(ModbusUnavailable, match="no answer"):
            await connection.read_registers(1, 0, 1)
    finally:
        await release_connection(connection)
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(asyncio.gather(*handlers), 5)


async def test_serial_port_missing_is_unavailable() -> None:
    """RTU on a serial port that does not exist (or without pyserial): unavailable."""
    connection = acquire_serial_connection("/dev/ttyCER-missing", baudrate=9600, timeout=0.2)
    try:
        assert connection is acquire_serial_connection("/dev/ttyCER-missing")
        assert connection.users == 2
        with pytest.raises(ModbusUnavailable):
            await connection.read_registers(1, 0, 2)
    finally:
        await release_connection(connection)
        await release_connection(connection)
    assert connection.users == 0


@pytest.mark.parametrize(
    ("response", "expected", "code"),
    [
        (ExceptionResponse(3, 2), ModbusProtocolError, 2),  # illegal data address
        (ExceptionResponse(4, 1), ModbusProtocolError, 1),  # illegal function
        (ExceptionResponse(3, 0x0B), ModbusUnavailable, None),  # gateway: target silent
        (ExceptionResponse(3, 0x0A), ModbusUnavailable, None),  # gateway: no path
        (ExceptionResponse(3, 6), ModbusUnavailable, None),  # device busy
        (ModbusIOException("no response"), ModbusUnavailable, None),  # returned, not raised
        (None, ModbusProtocolError, None),
    ],
)
async def test_error_responses(
    response: object, expected: type[Exception], code: int | None
) -> None:
    """Error *responses* (pymodbus' own objects) map to the same two exceptions as raised
    errors do."""
    connection = acquire_connection("127.0.0.1", 1)
    try:
        with pytest.raises(expected) as caught:
            connection._registers_of(response, 1, 0, 2)
        if expected is ModbusProtocolError:
            assert caught.value.exception_code == code  # type: ignore[attr-defined]
    finally:
        await release_connection(connection)
