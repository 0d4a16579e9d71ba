"""Decoding of register words into numbers with :mod:`struct`.

Bytes inside a register are always most significant first (Modbus); the *word order* of
32/64-bit values varies by vendor: ``BIG`` = most significant word first (SunSpec, Eastron),
``LITTLE`` = least significant word first (Carlo Gavazzi INT32).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from enum import StrEnum


class DataType(StrEnum):
    """Wire type of a value."""

    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    U64 = "u64"
    S64 = "s64"
    F32 = "f32"
    STRING = "string"  # only for device information; length given separately


class WordOrder(StrEnum):
    """Order of the 16-bit words of a multi-register value."""

    BIG = "big"  # most significant word first
    LITTLE = "little"  # least significant word first (word swap)


#: Registers occupied by each numeric type.
REGISTER_COUNT: dict[DataType, int] = {
    DataType.U16: 1,
    DataType.S16: 1,
    DataType.U32: 2,
    DataType.S32: 2,
    DataType.U64: 4,
    DataType.S64: 4,
    DataType.F32: 2,
}

_STRUCT_FORMAT: dict[DataType, str] = {
    DataType.U16: ">H",
    DataType.S16: ">h",
    DataType.U32: ">I",
    DataType.S32: ">i",
    DataType.U64: ">Q",
    DataType.S64: ">q",
    DataType.F32: ">f",
}

#: SunSpec "not implemented" values by type, as raw unsigned words (sunspec/pysunspec2
#: sunspec2/mb.py). acc32/acc64 use 0, which the profile states per field.
SUNSPEC_NOT_IMPLEMENTED: dict[DataType, frozenset[int]] = {
    DataType.U16: frozenset({0xFFFF}),
    DataType.S16: frozenset({0x8000}),
    DataType.U32: frozenset({0xFFFFFFFF}),
    DataType.S32: frozenset({0x80000000}),
    DataType.U64: frozenset({0xFFFFFFFFFFFFFFFF}),
    DataType.S64: frozenset({0x8000000000000000}),
    DataType.F32: frozenset(),  # any NaN, checked after decoding
}

#: The SunSpec scale factor (sunssf) sentinel.
SUNSPEC_SF_NOT_IMPLEMENTED = -0x8000


def _ordered_bytes(words: Sequence[int], word_order: WordOrder) -> bytes:
    """Big-endian byte string of the words, most significant word first."""
    ordered = list(words) if word_order is WordOrder.BIG else list(reversed(words))
    return b"".join(struct.pack(">H", word & 0xFFFF) for word in ordered)


def raw_unsigned(words: Sequence[int], word_order: WordOrder = WordOrder.BIG) -> int:
    """The words as one unsigned integer (used to compare with sentinels)."""
    return int.from_bytes(_ordered_bytes(words, word_order), "big")


def decode_value(
    words: Sequence[int],
    data_type: DataType,
    word_order: WordOrder = WordOrder.BIG,
    not_implemented: frozenset[int] = frozenset(),
) -> int | float | None:
    """Decode ``words`` (exactly the type's register count) into a number.

    Returns ``None`` when the raw value is one of ``not_implemented`` (compared as the
    unsigned integer of all words) or, for float32, NaN or infinite.
    """
    size = REGISTER_COUNT[data_type]
    if len(words) != size:
        raise ValueError(f"{data_type} needs {size} registers, got {len(words)}")
    data = _ordered_bytes(words, word_order)
    if not_implemented and int.from_bytes(data, "big") in not_implemented:
        return None
    value: int | float = struct.unpack(_STRUCT_FORMAT[data_type], data)[0]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round_float32(value)
    return value


#: Significant decimal digits a float32 carries (24-bit mantissa: 7.22 digits).
FLOAT32_DIGITS = 7


def round_float32(value: float) -> float:
    """``value`` (decoded from a float32) to the 7 significant digits a float32 carries.

    The float32 nearest 678.6636 is 678.66357421875: the digits after the 7th are noise of
    the binary representation, not a measurement, and must not reach states or statistics.
    """
    return float(f"{value:.{FLOAT32_DIGITS}g}")


def decode_string(words: Sequence[int]) -> str | None:
    """ASCII/UTF-8 text packed two characters per register; ``None`` when empty.

    SunSpec: a string whose first character is NUL is "not implemented".
    """
    data = _ordered_bytes(words, WordOrder.BIG)
    text = data.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    return text or None


def encode_value(
    value: float, data_type: DataType, word_order: WordOrder = WordOrder.BIG
) -> list[int]:
    """Inverse of :func:`decode_value` (for simulators and tests)."""
    number: int | float = value if data_type is DataType.F32 else int(value)
    data = struct.pack(_STRUCT_FORMAT[data_type], number)
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return words if word_order is WordOrder.BIG else list(reversed(words))


def encode_string(text: str, registers: int) -> list[int]:
    """``text`` NUL-padded into ``registers`` words (for simulators and tests)."""
    data = text.encode("utf-8")[: registers * 2].ljust(registers * 2, b"\x00")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
