"""Request planner: few contiguous reads instead of one read per value.

Given the register spans a profile needs, :func:`plan_reads` groups them per function code
into blocks of at most ``max_registers`` (125, the Modbus limit for FC3/FC4; Eastron meters
accept 80), merging two spans when the registers in between are fewer than ``max_gap`` and
none of them lies in a range the profile declares unreadable (reading it would get an
"illegal data address" exception for the whole block).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

#: Modbus limit for one read of holding/input registers (sunspec/pysunspec2 REQ_COUNT_MAX).
MAX_REGISTERS_PER_READ = 125
#: Default largest gap of unused registers read to merge two spans.
DEFAULT_MAX_GAP = 16


class RegisterFunction(IntEnum):
    """Modbus function code used to read a register."""

    HOLDING = 3
    INPUT = 4


@dataclass(frozen=True, slots=True, order=True)
class RegisterSpan:
    """Registers ``address`` … ``address + count - 1`` read with ``function``."""

    function: RegisterFunction
    address: int
    count: int

    @property
    def end(self) -> int:
        """First address after the span."""
        return self.address + self.count


@dataclass(frozen=True, slots=True, order=True)
class ReadBlock(RegisterSpan):
    """One request of the plan."""

    def covers(self, span: RegisterSpan) -> bool:
        """Whether ``span`` lies inside this block."""
        return (
            span.function == self.function and self.address <= span.address and span.end <= self.end
        )


def plan_reads(
    spans: Iterable[RegisterSpan],
    *,
    max_registers: int = MAX_REGISTERS_PER_READ,
    max_gap: int = DEFAULT_MAX_GAP,
    unreadable: Sequence[RegisterSpan] = (),
) -> list[ReadBlock]:
    """Group ``spans`` into as few reads as the limits allow.

    Spans longer than ``max_registers`` are an error (a value cannot be split across reads).
    Overlapping spans are merged. Blocks are returned sorted by function and address.
    """
    blocks: list[ReadBlock] = []
    for function in RegisterFunction:
        wanted = sorted(
            (span for span in spans if span.function == function),
            key=lambda span: (span.address, span.count),
        )
        holes = [hole for hole in unreadable if hole.function == function]
        start = end = -1
        for span in wanted:
            if span.count > max_registers:
                raise ValueError(f"span of {span.count} registers exceeds {max_registers}")
            if start < 0:
                start, end = span.address, span.end
                continue
            new_end = max(end, span.end)
            gap_ok = span.address - end <= max_gap
            size_ok = new_end - start <= max_registers
            hole_free = not any(hole.address < span.address and hole.end > end for hole in holes)
            if gap_ok and size_ok and hole_free:
                end = new_end
            else:
                blocks.append(ReadBlock(function, start, end - start))
                start, end = span.address, span.end
        if start >= 0:
            blocks.append(ReadBlock(function, start, end - start))
    return blocks
