"""One Modbus connection per host:port (or serial port), shared by every device behind it.

The pymodbus differences across the supported range (3.6.6 → newest) live here and only
here:

* the unit keyword, ``slave=`` up to 3.9 and ``device_id=`` from 3.10, chosen once from the
  signature of ``read_holding_registers``;
* ``address=`` and ``count=`` always passed by keyword;
* the two error styles: an exception (``ModbusIOException``, ``ConnectionException``,
  ``asyncio.TimeoutError``) or a response whose ``isError()`` is true (an exception response
  from the device, or on old versions an I/O error returned instead of raised).

Every transport failure of either pymodbus end is mapped to this library's two errors in one
place, :func:`_mapped_errors`: pymodbus 3.6.6 writes to a transport the peer already closed
(``AttributeError: 'NoneType' object has no attribute 'write'``) and leaves a failed future
behind ("Future exception was never retrieved"); newer versions raise ``ModbusIOException``.
pymodbus retries nothing here (``retries=0``) and never times a request out itself: the
request timeout is ours (``asyncio.timeout``), so pymodbus 3.6.6 cannot close a session that
other units behind the same gateway answer on.

Per unit back-off (MODBUS-MAPS §6: requests stay serialised per host and port): a unit that
does not answer is asked again only after a growing pause (``unit_backoff`` … 5 minutes);
meanwhile its requests fail at once without touching the network, so one silent unit does not
cost every poll a timeout under the shared lock. The session is closed only when the peer
closed it, or when several requests in a row went unanswered and no unit answered in between.

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
import ipaddress
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
#: First pause after a unit's timeout; doubled at each further timeout up to the maximum.
DEFAULT_UNIT_BACKOFF: Final = 20.0
DEFAULT_UNIT_BACKOFF_MAX: Final = 300.0
#: Unanswered requests in a row (no unit answered in between) after which the session is
#: considered stalled and closed.
STALLED_AFTER_TIMEOUTS: Final = 3
#: Extra time pymodbus is given over our own timeout, so that ours always fires first.
_PYMODBUS_TIMEOUT_MARGIN: Final = 5.0
#: Host names that mean this machine: one connection with ``127.0.0.1``.
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

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


class _TransportLost(Exception):
    """Internal: the session is gone (the peer closed it, or it could not be written)."""


@contextmanager
def _mapped_errors(where: str, connection: ModbusConnection) -> Iterator[None]:
    """Map every transport failure of both pymodbus ends to :class:`ModbusUnavailable`
    and every other pymodbus error to :class:`ModbusProtocolError` (the one place).

    * ``TimeoutError`` (ours): no answer; the session stays open unless the peer closed it
      meanwhile (pymodbus 3.6.6 notices a closed session only at the next write).
    * ``ConnectionException``, ``ModbusIOException``, ``OSError``, ``EOFError``: the session
      is lost or unusable; it is dropped and the next request reconnects.
    * ``AttributeError``: pymodbus 3.6.6 writing to a transport the peer closed; dropped too.
    * any other ``ModbusException``: the device answered something this library cannot use.
    """
    try:
        yield
    except TimeoutError as err:
        if not connection.connected:
            connection._drop_client()
            raise ModbusUnavailable(f"{where}: connection closed by the device") from err
        raise ModbusUnavailable(f"{where}: no answer within {connection.timeout:g} s") from err
    except (ConnectionException, ModbusIOException, OSError, EOFError, AttributeError) as err:
        connection._drop_client()
        raise ModbusUnavailable(f"{where}: connection lost ({err})") from err
    except ModbusException as err:
        raise ModbusProtocolError(f"{where}: {err}") from err


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


def canonical_host(host: str) -> str:
    """The form of ``host`` that names one connection: ``localhost`` and ``127.0.0.1`` are
    the same device, and an IP address is written one way (``0x7f.1`` is not parsed)."""
    name = host.strip().lower().rstrip(".")
    if name in _LOOPBACK_NAMES:
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return name


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
        unit_backoff: float = DEFAULT_UNIT_BACKOFF,
        unit_backoff_max: float = DEFAULT_UNIT_BACKOFF_MAX,
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
        self._unit_backoff = unit_backoff
        self._unit_backoff_max = unit_backoff_max
        #: unit → (timeouts in a row, loop time before which it is not asked again)
        self._silent_units: dict[int, tuple[int, float]] = {}
        self._unanswered = 0

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
        where = f"{self.key} unit {unit} registers {address}×{count}"
        self._check_unit_backoff(unit, where)
        client = await self._ensure_connected()
        method = (
            client.read_holding_registers
            if function is RegisterFunction.HOLDING
            else client.read_input_registers
        )
        try:
            with _mapped_errors(where, self):
                async with asyncio.timeout(self.timeout):
                    response = await method(
                        address=address, count=count, **unit_kwargs(unit, self.unit_keyword)
                    )
        except ModbusUnavailable:
            if self._client is client:  # the session is alive: this unit is silent
                self._unit_silent(unit)
            raise
        registers = self._registers_of(response, unit, address, count)
        self._unit_answered(unit)
        return registers

    def _check_unit_backoff(self, unit: int, where: str) -> None:
        """Fail at once while ``unit`` is in its back-off after a timeout."""
        silent = self._silent_units.get(unit)
        if silent is None:
            return
        remaining = silent[1] - asyncio.get_running_loop().time()
        if remaining > 0:
            raise ModbusUnavailable(
                f"{where}: unit silent, next attempt in {remaining:.0f} s (no request sent)"
            )

    def _unit_silent(self, unit: int) -> None:
        """Start or grow ``unit``'s back-off; close a session on which nobody answers."""
        timeouts = self._silent_units.get(unit, (0, 0.0))[0] + 1
        pause = min(self._unit_backoff * 2 ** (timeouts - 1), self._unit_backoff_max)
        self._silent_units[unit] = (timeouts, asyncio.get_running_loop().time() + pause)
        _LOGGER.debug("%s unit %s: silent, next attempt in %g s", self.key, unit, pause)
        self._unanswered += 1
        if self._unanswered >= STALLED_AFTER_TIMEOUTS and self._client is not None:
            _LOGGER.debug("%s: %s requests unanswered, reconnecting", self.key, self._unanswered)
            self._drop_client()

    def _unit_answered(self, unit: int) -> None:
        """``unit`` answered (even with an exception response): no back-off, session alive."""
        self._silent_units.pop(unit, None)
        self._unanswered = 0

    def unit_backoff(self, unit: int) -> float:
        """Seconds before ``unit`` is asked again (0: not backing off)."""
        silent = self._silent_units.get(unit)
        if silent is None:
            return 0.0
        return max(silent[1] - asyncio.get_running_loop().time(), 0.0)

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
                # the gateway answered for a unit that did not: that unit backs off
                self._unanswered = 0
                self._unit_silent(unit)
                self._unanswered = 0
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
        except (TimeoutError, OSError, AttributeError, ModbusException) as err:
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
        self._unanswered = 0
        return client

    def _drop_client(self) -> None:
        """Close and forget the client (the next request reconnects)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def reset_backoff(self) -> None:
        """Allow the next request to try connecting, and every unit, at once (e.g. a
        user-triggered test)."""
        self._next_attempt = 0.0
        self._silent_units.clear()

    async def close(self) -> None:
        """Close the client after the request in flight, if any."""
        async with self._lock:
            self._closed = True
            self._drop_client()


_CONNECTIONS: dict[ConnectionKey, ModbusConnection] = {}


def _acquire(key: ConnectionKey, factory: Callable[[], Any], **settings: float) -> ModbusConnection:
    """The connection of ``key``, created with ``settings`` by its first acquirer."""
    connection = _CONNECTIONS.get(key)
    if connection is None:
        connection = ModbusConnection(
            key,
            factory,
            timeout=settings["timeout"],
            reconnect_delay=settings["reconnect_delay"],
            reconnect_delay_max=settings["reconnect_delay_max"],
            unit_backoff=settings.get("unit_backoff", DEFAULT_UNIT_BACKOFF),
            unit_backoff_max=settings.get("unit_backoff_max", DEFAULT_UNIT_BACKOFF_MAX),
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
    unit_backoff: float = DEFAULT_UNIT_BACKOFF,
    unit_backoff_max: float = DEFAULT_UNIT_BACKOFF_MAX,
) -> ModbusConnection:
    """The shared connection to ``host:port`` (created on first use; connects lazily).

    Every call must be paired with :func:`release_connection`. The settings of the first
    acquirer apply while the connection exists. ``localhost`` and ``127.0.0.1`` (and other
    spellings of one IP address) share one connection, see :func:`canonical_host`.
    """
    canonical = canonical_host(host)
    endpoint = f"[{canonical}]:{port}" if ":" in canonical else f"{canonical}:{port}"
    key = ConnectionKey("tcp", endpoint)

    def factory() -> Any:
        return AsyncModbusTcpClient(
            canonical,
            port=port,
            timeout=timeout + _PYMODBUS_TIMEOUT_MARGIN,
            retries=0,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )

    return _acquire(
        key,
        factory,
        timeout=timeout,
        reconnect_delay=reconnect_delay,
        reconnect_delay_max=reconnect_delay_max,
        unit_backoff=unit_backoff,
        unit_backoff_max=unit_backoff_max,
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
    unit_backoff: float = DEFAULT_UNIT_BACKOFF,
    unit_backoff_max: float = DEFAULT_UNIT_BACKOFF_MAX,
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
            timeout=timeout + _PYMODBUS_TIMEOUT_MARGIN,
            retries=0,
            reconnect_delay=0,
            reconnect_delay_max=0,
        )

    return _acquire(
        key,
        factory,
        timeout=timeout,
        reconnect_delay=reconnect_delay,
        reconnect_delay_max=reconnect_delay_max,
        unit_backoff=unit_backoff,
        unit_backoff_max=unit_backoff_max,
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
