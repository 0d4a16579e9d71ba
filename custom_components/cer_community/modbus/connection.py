"""One Modbus connection per host:port (or serial port), shared by every device behind it.

The pymodbus differences across the supported range (3.6.6 → newest) live here and only
here:

* the unit keyword, ``slave=`` up to 3.9 and ``device_id=`` from 3.10, chosen once from the
  signature of ``read_holding_registers``;
* ``address=`` and ``count=`` always passed by keyword;
* the two error styles: an exception (``ModbusIOException``, ``ConnectionException``,
  ``asyncio.TimeoutError``) or a response whose ``isError()`` is true (an exception response
  from the device, or on old versions an I/O error returned instead of raised).

pymodbus's own automatic reconnection is switched off (``reconnect_delay=0``): it runs
background tasks and logs each attempt. This module reconnects on demand at the next request
with an exponential backoff, so a host that is off at night costs one connect attempt per
backoff interval and no log line (devices log availability transitions, see ``device.py``).
pymodbus itself logs every failed connect and timeout at WARNING/ERROR; records it emits
while one of *our* requests runs are dropped (kept, as DEBUG, when the ``pymodbus`` logger is
set to DEBUG), so an inverter asleep all night does not flood the log. Other users of
pymodbus in the same process are not affected.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from .errors import ModbusProtocolError, ModbusUnavailable
from .planner import MAX_REGISTERS_PER_READ, RegisterFunction

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 3.0
DEFAULT_RECONNECT_DELAY: Final = 1.0
DEFAULT_RECONNECT_DELAY_MAX: Final = 120.0

#: Modbus exception codes meaning "the gateway could not reach the device": unavailable,
#: not a configuration error (0x0A gateway path unavailable, 0x0B target failed to respond).
_GATEWAY_EXCEPTION_CODES: Final = frozenset({0x0A, 0x0B})
#: Exception code 6, "server device busy": also worth retrying later.
_BUSY_EXCEPTION_CODES: Final = frozenset({0x05, 0x06})


_IN_OUR_REQUEST: ContextVar[bool] = ContextVar("cer_community_modbus_request", default=False)


class _QuietPymodbus(logging.Filter):
    """Drop pymodbus records raised inside our requests unless pymodbus debugging is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _IN_OUR_REQUEST.get() or record.levelno <= logging.DEBUG:
            return True
        if logging.getLogger("pymodbus").isEnabledFor(logging.DEBUG):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return True
        return False


def _install_quiet_filter() -> None:
    pymodbus_logger = logging.getLogger("pymodbus.logging")
    if not any(isinstance(f, _QuietPymodbus) for f in pymodbus_logger.filters):
        pymodbus_logger.addFilter(_QuietPymodbus())


_install_quiet_filter()


@contextmanager
def _our_request() -> Iterator[None]:
    token = _IN_OUR_REQUEST.set(True)
    try:
        yield
    finally:
        _IN_OUR_REQUEST.reset(token)


def _unit_keyword() -> str:
    """``device_id`` on pymodbus ≥ 3.10, ``slave`` before."""
    parameters = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return "device_id" if "device_id" in parameters else "slave"


#: The keyword pymodbus takes for the unit id, decided once at import.
UNIT_KEYWORD: Final = _unit_keyword()


def unit_kwargs(unit: int, keyword: str = UNIT_KEYWORD) -> dict[str, int]:
    """Keyword arguments naming the unit id for this pymodbus version."""
    return {keyword: unit}


@dataclass(frozen=True, slots=True)
class ConnectionKey:
    """What makes two connections the same: transport and endpoint."""

    transport: str  # "tcp" or "serial"
    endpoint: str  # "host:port" or the serial device path

    def __str__(self) -> str:
        """``tcp://host:port`` or ``serial:///dev/ttyUSB0``."""
        return f"{self.transport}://{self.endpoint}"


class ModbusConnection:
    """A pymodbus client shared by several devices; requests go one at a time.

    Obtain one with :func:`acquire_connection` or :func:`acquire_serial_connection` and give it
    back with :func:`release_connection`. Connecting is lazy: the first request connects.
    """

    def __init__(
        self,
        key: ConnectionKey,
        client_factory: Callable[[], Any],
        *,
        timeout: float,
        reconnect_delay: float,
        reconnect_delay_max: float,
    ) -> None:
        """Create the (not yet connected) connection; use the acquire functions instead."""
        self.key = key
        self.timeout = timeout
        self._client_factory = client_factory
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._reconnect_delay = reconnect_delay
        self._reconnect_delay_max = reconnect_delay_max
        self._failures = 0
        self._next_attempt = 0.0
        self._users = 0
        self._closed = False
        self.unit_keyword = UNIT_KEYWORD

    def __repr__(self) -> str:
        """Endpoint and reference count."""
        return f"<ModbusConnection {self.key} users={self._users}>"

    @property
    def connected(self) -> bool:
        """Whether the client currently holds an open connection."""
        return self._client is not None and bool(self._client.connected)

    @property
    def users(self) -> int:
        """How many acquire calls are not yet released."""
        return self._users

    async def read_registers(
        self,
        unit: int,
        address: int,
        count: int,
        function: RegisterFunction = RegisterFunction.HOLDING,
    ) -> list[int]:
        """Read ``count`` registers from ``unit``; exactly ``count`` words or an exception.

        Raises :class:`ModbusUnavailable` when the device cannot be reached (also while the
        reconnect backoff runs, without touching the network) and
        :class:`ModbusProtocolError` when it answers with an exception or malformed data.
        """
        if not 1 <= count <= MAX_REGISTERS_PER_READ:
            raise ValueError(f"count must be 1…{MAX_REGISTERS_PER_READ}, not {count}")
        async with self._lock:
            with _our_request():
                return await self._read_locked(unit, address, count, function)

    async def _read_locked(
        self, unit: int, address: int, count: int, function: RegisterFunction
    ) -> list[int]:
        """The request itself, under the lock."""
        client = await self._ensure_connected()
        method = (
            client.read_holding_registers
            if function is RegisterFunction.HOLDING
            else client.read_input_registers
        )
        try:
            # pymodbus applies ``timeout`` per attempt; this guards against a hang.
            async with asyncio.timeout(self.timeout * 2 + 1):
                response = await method(
                    address=address, count=count, **unit_kwargs(unit, self.unit_keyword)
                )
        except (TimeoutError, ModbusIOException, ConnectionException) as err:
            self._drop_client()
            raise ModbusUnavailable(
                f"{self.key} unit {unit}: no answer reading {address}×{count} ({err})"
            ) from err
        except ModbusException as err:
            raise ModbusProtocolError(f"{self.key} unit {unit}: {err}") from err
        return self._registers_of(response, unit, address, count)

    def _registers_of(self, response: Any, unit: int, address: int, count: int) -> list[int]:
        """The registers of a response, or the right exception for an error response."""
        where = f"{self.key} unit {unit} registers {address}×{count}"
        if response is None:
            raise ModbusProtocolError(f"{where}: empty response")
        if response.isError():
            code = getattr(response, "exception_code", None)
            if code is None:
                # an I/O error returned rather than raised (older pymodbus)
                self._drop_client()
                raise ModbusUnavailable(f"{where}: {response}")
            if code in _GATEWAY_EXCEPTION_CODES or code in _BUSY_EXCEPTION_CODES:
                raise ModbusUnavailable(f"{where}: exception code {code}")
            raise ModbusProtocolError(f"{where}: exception code {code}", exception_code=code)
        registers = list(getattr(response, "registers", None) or [])
        if len(registers) != count:
            raise ModbusProtocolError(f"{where}: got {len(registers)} registers")
        return registers

    async def _ensure_connected(self) -> Any:
        """The connected client, connecting if needed (outside the backoff window)."""
        if self._closed:
            raise ModbusUnavailable(f"{self.key}: connection released")
        if self.connected:
            return self._client
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            raise ModbusUnavailable(
                f"{self.key}: not connected, next attempt in "
                f"{self._next_attempt - loop.time():.0f} s"
            )
        self._drop_client()
        try:
            client = self._client_factory()
        except (RuntimeError, ImportError, OSError, ValueError) as err:
            # e.g. a serial client without pyserial installed
            raise ModbusUnavailable(f"{self.key}: cannot create the client: {err}") from err
        try:
            async with asyncio.timeout(self.timeout + 1):
                ok = await client.connect()
        except (TimeoutError, OSError, ModbusException) as err:
            ok = False
            _LOGGER.debug("%s: connect failed: %s", self.key, err)
        if not ok or not client.connected:
            client.close()
            self._failures += 1
            delay = min(
                self._reconnect_delay * 2 ** (self._failures - 1), self._reconnect_delay_max
            )
            self._next_attempt = loop.time() + delay
            raise ModbusUnavailable(f"{self.key}: cannot connect (next attempt in {delay:g} s)")
        self._client = client
        self._failures = 0
        self._next_attempt = 0.0
        return client

    def _drop_client(self) -> None:
        """Close and forget the client (the next request reconnects)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def reset_backoff(self) -> None:
        """Allow the next request to try connecting at once (e.g. a user-triggered test)."""
        self._next_attempt = 0.0

    async def close(self) -> None:
        """Close the client after the request in flight, if any."""
        async with self._lock:
            self._closed = True
            self._drop_client()


_CONNECTIONS: dict[ConnectionKey, ModbusConnection] = {}


def _acquire(key: ConnectionKey, factory: Callable[[], Any], **settings: float) -> ModbusConnection:
    connection = _CONNECTIONS.get(key)
    if connection is None:
        connection = ModbusConnection(
            key,
            factory,
            timeout=settings["timeout"],
            reconnect_delay=settings["reconnect_delay"],
            reconnect_delay_max=settings["reconnect_delay_max"],
        )
        _CONNECTIONS[key] = connection
    connection._users += 1
    return connection


def acquire_connection(
    host: str,
    port: int = 502,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
    reconnect_delay_max: float = DEFAULT_RECONNECT_DELAY_MAX,
) -> ModbusConnection:
    """The shared connection to ``host:port`` (created on first use; connects lazily).

    Every call must be paired with :func:`release_connection`. The settings of the first
    acquirer apply while the connection exists.
    """
    key = ConnectionKey("tcp", f"{host.strip().lower()}:{port}")

    def factory() -> Any:
        return AsyncModbusTcpClient(
            host.strip(),
            port=port,
            timeout=timeout,
            retries=1,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )

    return _acquire(
        key,
        factory,
        timeout=timeout,
        reconnect_delay=reconnect_delay,
        reconnect_delay_max=reconnect_delay_max,
    )


def acquire_serial_connection(
    port: str,
    *,
    baudrate: int = 9600,
    bytesize: int = 8,
    parity: str = "N",
    stopbits: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
    reconnect_delay_max: float = DEFAULT_RECONNECT_DELAY_MAX,
) -> ModbusConnection:
    """The shared RTU connection on serial ``port`` (all units on the bus share it)."""
    key = ConnectionKey("serial", port)

    def factory() -> Any:
        return AsyncModbusSerialClient(
            port,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout,
            retries=1,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )

    return _acquire(
        key,
        factory,
        timeout=timeout,
        reconnect_delay=reconnect_delay,
        reconnect_delay_max=reconnect_delay_max,
    )


async def release_connection(connection: ModbusConnection) -> None:
    """Give back one acquisition; the last one closes the connection."""
    if connection._users <= 0:  # released twice: nothing left to give back
        return
    connection._users -= 1
    if connection._users > 0:
        return
    if _CONNECTIONS.get(connection.key) is connection:
        del _CONNECTIONS[connection.key]
    await connection.close()
