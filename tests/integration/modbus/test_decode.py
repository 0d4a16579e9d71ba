"""Decoders: every type, both word orders, SunSpec sentinels, scale factors."""

from __future__ import annotations

import math
import struct

import pytest

from custom_components.cer_community.modbus.decode import (
    SUNSPEC_NOT_IMPLEMENTED,
    DataType,
    WordOrder,
    decode_string,
    decode_value,
    encode_string,
    encode_value,
)
from custom_components.cer_community.modbus.device import decode_field, scale_value
from custom_components.cer_community.modbus.planner import RegisterFunction
from custom_components.cer_community.modbus.profiles import Field
from custom_components.cer_community.modbus.quantities import Quantity

BIG, LITTLE = WordOrder.BIG, WordOrder.LITTLE


@pytest.mark.parametrize(
    ("words", "data_type", "word_order", "expected"),
    [
        ([0x1234], DataType.U16, BIG, 0x1234),
        ([0xFFFE], DataType.U16, BIG, 65534),
        ([0xFFFE], DataType.S16, BIG, -2),
        ([0x7FFF], DataType.S16, BIG, 32767),
        ([0x0001, 0x0002], DataType.U32, BIG, 0x00010002),
        ([0x0002, 0x0001], DataType.U32, LITTLE, 0x00010002),
        ([0xFFFF, 0xFFFE], DataType.S32, BIG, -2),
        ([0xFFFE, 0xFFFF], DataType.S32, LITTLE, -2),
        # Carlo Gavazzi: −1500.5 W × 10 = −15005 as INT32, LSW first
        ([0xC563, 0xFFFF], DataType.S32, LITTLE, -15005),
        ([0x0001, 0x0002, 0x0003, 0x0004], DataType.U64, BIG, 0x0001000200030004),
        ([0x0004, 0x0003, 0x0002, 0x0001], DataType.U64, LITTLE, 0x0001000200030004),
        ([0xFFFF, 0xFFFF, 0xFFFF, 0xFFF6], DataType.S64, BIG, -10),
        ([0xFFF6, 0xFFFF, 0xFFFF, 0xFFFF], DataType.S64, LITTLE, -10),
        # Eastron: 230.5 V = 0x43668000
        ([0x4366, 0x8000], DataType.F32, BIG, 230.5),
        ([0x8000, 0x4366], DataType.F32, LITTLE, 230.5),
        ([0xC4BB, 0x8000], DataType.F32, BIG, -1500.0),
    ],
)
def test_decode_types_and_word_order(
    words: list[int], data_type: DataType, word_order: WordOrder, expected: float
) -> None:
    """Every numeric type in both word orders; encode is the inverse."""
    assert decode_value(words, data_type, word_order) == expected
    assert encode_value(expected, data_type, word_order) == words


@pytest.mark.parametrize(
    ("words", "data_type"),
    [
        ([0xFFFF], DataType.U16),
        ([0x8000], DataType.S16),
        ([0xFFFF, 0xFFFF], DataType.U32),
        ([0x8000, 0x0000], DataType.S32),
        ([0xFFFF] * 4, DataType.U64),
        ([0x8000, 0, 0, 0], DataType.S64),
    ],
)
def test_sunspec_not_implemented(words: list[int], data_type: DataType) -> None:
    """SunSpec sentinels (sunspec/pysunspec2 mb.py) decode to None; neighbours do not."""
    sentinels = SUNSPEC_NOT_IMPLEMENTED[data_type]
    assert decode_value(words, data_type, BIG, sentinels) is None
    neighbour = [*words[:-1], words[-1] ^ 1]
    assert decode_value(neighbour, data_type, BIG, sentinels) is not None
    # without the sentinel set the raw value comes back
    assert decode_value(words, data_type, BIG) is not None


def test_sunspec_0x7fff_is_a_value() -> None:
    """0x7FFF is Huawei's "invalid", not a SunSpec sentinel (MODBUS-MAPS §1.2)."""
    assert decode_value([0x7FFF], DataType.S16, BIG, SUNSPEC_NOT_IMPLEMENTED[DataType.S16]) == (
        32767
    )


def test_sentinel_compared_in_word_order() -> None:
    """The sentinel is the value's unsigned integer, whatever the word order on the wire."""
    sentinel = frozenset({0x80000000})
    assert decode_value([0x0000, 0x8000], DataType.S32, LITTLE, sentinel) is None
    assert decode_value([0x8000, 0x0000], DataType.S32, LITTLE, sentinel) == 0x8000


@pytest.mark.parametrize(
    "words", [[0x7FC0, 0x0000], [0xFFC0, 0x0000], [0x7F80, 0x0000], [0xFF80, 0x0000]]
)
def test_float_nan_and_infinity_are_missing(words: list[int]) -> None:
    """Any NaN (SunSpec float sentinel) or infinity decodes to None."""
    assert decode_value(words, DataType.F32) is None


def test_wrong_register_count_is_an_error() -> None:
    """A type always gets exactly its registers."""
    with pytest.raises(ValueError, match="needs 2 registers"):
        decode_value([1], DataType.U32)


def test_strings() -> None:
    """Two characters per register, NUL padded; a leading NUL is "not implemented"."""
    words = encode_string("Fronius", 16)
    assert len(words) == 16
    assert words[0] == 0x4672  # "Fr"
    assert decode_string(words) == "Fronius"
    assert decode_string([0x0041, 0x4243]) is None  # first character NUL
    assert decode_string([0] * 8) is None


@pytest.mark.parametrize(
    ("raw", "scale", "exponent", "expected", "kind"),
    [
        (2071, 1.0, -2, 20.71, float),  # SolarEdge example: 2071 with SF −2
        (2301, 0.1, 0, 230.1, float),  # ÷10
        (5800, 1.0, 0, 5800, int),
        (123, 1.0, 2, 12300, int),  # positive SF stays an integer
        (98765, 100.0, 0, 9876500, int),  # kWh ÷ 10 → Wh
        (-15005, 0.1, 0, -1500.5, float),
        (12.5, 1000.0, 0, 12500.0, float),  # float kWh → Wh
    ],
)
def test_scale(raw: float, scale: float, exponent: int, expected: float, kind: type) -> None:
    """raw × scale × 10^SF, exact and integer where it can be."""
    value = scale_value(raw, scale, exponent)
    assert value == expected
    assert type(value) is kind


def _words(field: Field, registers: dict[int, int]) -> dict[tuple[int, int], int]:
    return {(field.function, address): word for address, word in registers.items()}


def test_decode_field_with_sunspec_scale_factor() -> None:
    """A field with an ``_SF`` register: value × 10^SF; a bad SF gives None."""
    field = Field(
        Quantity.VOLTAGE_L1,
        100,
        DataType.U16,
        scale_factor=103,
        not_implemented=frozenset({0xFFFF}),
    )
    assert decode_field(field, _words(field, {100: 2301, 103: 0xFFFF})) == 230.1  # SF −1
    assert decode_field(field, _words(field, {100: 23, 103: 1})) == 230
    assert decode_field(field, _words(field, {100: 2301, 103: 0x8000})) is None  # SF n/a
    assert decode_field(field, _words(field, {100: 2301, 103: 11})) is None  # out of range
    assert decode_field(field, _words(field, {100: 2301, 103: 0xFFF5})) is None  # −11
    assert decode_field(field, _words(field, {100: 0xFFFF, 103: 0})) is None  # sentinel


def test_decode_field_fixed_scale_input_register() -> None:
    """Fixed scale, input register, little word order (generic profile style)."""
    field = Field(
        Quantity.ENERGY_IMPORTED,
        10,
        DataType.U32,
        RegisterFunction.INPUT,
        WordOrder.LITTLE,
        scale=10.0,
    )
    assert decode_field(field, _words(field, {10: 0x0002, 11: 0x0001})) == 0x00010002 * 10


def test_nan_helper_is_nan() -> None:
    """The simulator's NaN encoding is the canonical quiet NaN."""
    assert encode_value(math.nan, DataType.F32) == [0x7FC0, 0x0000]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (678.6636, 678.6636),  # 678.66357421875 as a float32
        (12345.67, 12345.67),  # 12345.669921875
        (0.1, 0.1),  # 0.100000001490116…
        (-1500.5, -1500.5),
        (1_234_567_890.0, 1_234_568_000.0),  # 7 digits is all a float32 holds
        (49.98, 49.98),
    ],
)
def test_float32_rounded_to_seven_significant_digits(value: float, expected: float) -> None:
    """Issue #14 item 6: float registers carried their noise into states
    (``678.66357421875 kWh``); a decoded float32 has the 7 digits it can carry."""
    words = encode_value(value, DataType.F32)
    raw = struct.unpack(">f", struct.pack(">HH", *words))[0]
    assert raw != expected or value == -1500.5  # the wire value really is noisy
    assert decode_value(words, DataType.F32) == expected
