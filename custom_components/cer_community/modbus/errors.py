"""Exceptions of the Modbus layer: the only two kinds the entities need to tell apart."""

from __future__ import annotations


class ModbusError(Exception):
    """Base class of every error raised by this package."""


class ModbusUnavailable(ModbusError):
    """The device did not answer: connection refused or lost, timeout, gateway without target.

    Expected at night for inverters that switch their communication board off: the device is
    *unavailable*, not broken. Retry at the next poll; the connection applies its own backoff.
    """


class ModbusProtocolError(ModbusError):
    """The device answered, but not with what the profile expects.

    An exception response (illegal function, illegal data address, …), a short or malformed
    answer, or data that does not match the profile (no ``SunS`` marker, unknown model).
    Retrying will not help; the configuration (unit id, profile, addresses) is wrong.
    """

    def __init__(self, message: str, *, exception_code: int | None = None) -> None:
        """Store the Modbus exception code (2 = illegal data address) when there is one."""
        super().__init__(message)
        self.exception_code = exception_code
