"""The surplus rule (GSE-RULES §4): a destination of money, not extra money.

Once a year, for each set j of incentivised plants (``tip_only``, threshold 55 %;
``tip_with_grant``, threshold 45 %)::

    %ecc_j = max(0 ; E_ACI,j / E_imm,j − threshold_j)          (percentage points)
    C_ecc  = Σ_j %ecc_j × C_ACI,j

``C_ecc`` must go only to consumers that are not businesses and/or to social purposes. The
reading ``(ratio − threshold) / ratio`` is wrong.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def excess_share(incentivised_wh: int, injected_wh: int, threshold: Decimal) -> Fraction:
    """%ecc_j as a fraction (0.40 for 40 points); 0 when nothing was injected."""
    if injected_wh <= 0:
        return Fraction(0)
    return max(Fraction(0), Fraction(incentivised_wh, injected_wh) - Fraction(threshold))


def surplus_earmark(
    incentivised_wh: int, injected_wh: int, tip: Fraction | Decimal, threshold: Decimal
) -> Fraction:
    """%ecc_j × C_ACI,j, exact."""
    return excess_share(incentivised_wh, injected_wh, threshold) * Fraction(tip)
