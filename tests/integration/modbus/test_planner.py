"""Request planner: merging, the 125-register limit, gaps, unreadable holes."""

from __future__ import annotations

import pytest

from custom_components.cer_community.modbus.device import plan_for
from custom_components.cer_community.modbus.planner import (
    ReadBlock,
    RegisterFunction,
    RegisterSpan,
    plan_reads,
)
from custom_components.cer_community.modbus.profiles import (
    EM24,
    PROFILES,
    SDM120,
    SDM630,
    SUNSPEC_INVERTER_FLOAT,
    SUNSPEC_INVERTER_INT,
    SUNSPEC_METER_FLOAT,
    SUNSPEC_METER_INT,
)

H, IN = RegisterFunction.HOLDING, RegisterFunction.INPUT


def span(address: int, count: int = 1, function: RegisterFunction = H) -> RegisterSpan:
    """Shorthand."""
    return RegisterSpan(function, address, count)


def test_adjacent_and_small_gaps_merge() -> None:
    """Spans a few registers apart become one read that also covers the gap."""
    assert plan_reads([span(10, 2), span(12), span(20, 2)]) == [ReadBlock(H, 10, 12)]


def test_large_gap_splits() -> None:
    """A gap above max_gap costs a second request instead of reading useless registers."""
    blocks = plan_reads([span(0, 2), span(100, 2)], max_gap=16)
    assert blocks == [ReadBlock(H, 0, 2), ReadBlock(H, 100, 2)]
    assert plan_reads([span(0, 2), span(100, 2)], max_gap=98) == [ReadBlock(H, 0, 102)]


def test_125_register_limit() -> None:
    """No block exceeds 125 registers, even when everything is contiguous."""
    spans = [span(address, 2) for address in range(1000, 1300, 2)]
    blocks = plan_reads(spans)
    assert [block.count for block in blocks] == [124, 124, 52]
    assert all(block.count <= 125 for block in blocks)
    covered = {a for block in blocks for a in range(block.address, block.end)}
    assert covered == set(range(1000, 1300))


def test_exactly_125_in_one_read() -> None:
    """125 registers is allowed in one read (first and last register wanted)."""
    assert plan_reads([span(0), span(124)], max_gap=200) == [ReadBlock(H, 0, 125)]
    assert plan_reads([span(0), span(125)], max_gap=200) == [
        ReadBlock(H, 0, 1),
        ReadBlock(H, 125, 1),
    ]


def test_value_never_split_across_reads() -> None:
    """A 32-bit value at the block limit moves to the next block whole."""
    blocks = plan_reads([span(0), span(124, 2)], max_gap=200)
    assert blocks == [ReadBlock(H, 0, 1), ReadBlock(H, 124, 2)]


def test_span_too_long_is_refused() -> None:
    """A single value longer than a read cannot be planned."""
    with pytest.raises(ValueError, match="exceeds"):
        plan_reads([span(0, 4)], max_registers=3)


def test_never_across_an_unreadable_hole() -> None:
    """A declared hole between two spans is not read, even if the gap is small."""
    blocks = plan_reads([span(0, 2), span(6, 2)], unreadable=[span(3, 1)])
    assert blocks == [ReadBlock(H, 0, 2), ReadBlock(H, 6, 2)]
    # a hole outside the gap does not matter
    assert plan_reads([span(0, 2), span(6, 2)], unreadable=[span(20)]) == [ReadBlock(H, 0, 8)]
    # a hole in the other table does not matter either
    assert plan_reads([span(0, 2), span(6, 2)], unreadable=[span(3, 1, IN)]) == [ReadBlock(H, 0, 8)]


def test_functions_are_planned_apart_and_overlaps_merge() -> None:
    """Holding and input registers are separate tables; overlapping spans merge."""
    blocks = plan_reads([span(0, 2, IN), span(0, 2), span(1, 2), span(4, 2, IN)])
    assert blocks == [ReadBlock(H, 0, 3), ReadBlock(IN, 0, 6)]


def test_unsorted_input_and_duplicates() -> None:
    """Order of the spans does not matter."""
    assert plan_reads([span(30), span(10), span(10), span(20)]) == [ReadBlock(H, 10, 21)]


@pytest.mark.parametrize(
    ("fields", "blocks"),
    [
        # SunSpec 103: AphA (+3) … St (+38) with every SF: one read of 36 registers
        (SUNSPEC_INVERTER_INT, [ReadBlock(H, 3, 36)]),
        (SUNSPEC_INVERTER_FLOAT, [ReadBlock(H, 4, 45)]),
        # SunSpec 203: +3 … TotWh_SF (+54): one read of 52
        (SUNSPEC_METER_INT, [ReadBlock(H, 3, 52)]),
        # SunSpec 213: the whole model (126) would not fit; +4 … +69 does
        (SUNSPEC_METER_FLOAT, [ReadBlock(H, 4, 66)]),
    ],
)
def test_sunspec_model_plans(fields: tuple, blocks: list[ReadBlock]) -> None:
    """SunSpec models are read in one request each (offsets relative to the model ID)."""
    assert plan_for(fields, PROFILES["sunspec"]) == blocks


def test_fixed_profile_plans() -> None:
    """Eastron: one read of 76 (≤ 80, their limit); EM24: two small reads."""
    assert plan_for(SDM630.fields, SDM630) == [ReadBlock(IN, 0x0000, 0x4C)]
    assert plan_for(SDM120.fields, SDM120) == [ReadBlock(IN, 0x0000, 0x4C)]
    assert plan_for(EM24.fields, EM24) == [ReadBlock(H, 0x0000, 0x36), ReadBlock(H, 0x4E, 2)]
    for profile in (SDM630, SDM120):  # Eastron: even start and even count
        for block in plan_for(profile.fields, profile):
            assert block.address % 2 == 0
            assert block.count % 2 == 0
