"""The premium tariff (TIP, tariffa incentivante premio) per plant and hour (GSE-RULES §2).

::

    TIP_h = { min[CAP ; TP_base + max(0 ; 180 − Pz_h)] + FC_zonale } × (1 − F)     [€/MWh]

TP_base and CAP come from the plant's power band, FC_zonale (PV only) from the region, F from
the capital grant. :func:`tip_eur_mwh` is the exact scalar form; :func:`tip_before_f_micro`
the vectorised form over hours (integer micro-€/MWh, F applied later on the energy it
concerns). Both read the same tables of :mod:`.rules`.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from . import rules

MICRO_PER_EUR = 1_000_000


def fc_zonale(area: rules.Area, source: str) -> Decimal:
    """FC_zonale: the regional correction, photovoltaic plants only."""
    return rules.FC_ZONALE_EUR_MWH[area] if source == "pv" else Decimal(0)


def tip_eur_mwh(
    power_kw: Decimal,
    zonal_price_eur_mwh: Decimal | Fraction,
    area: rules.Area,
    source: str = "pv",
    capital_grant_pct: Decimal = Decimal(0),
) -> Fraction:
    """TIP of a plant in an hour with zonal price Pz, exact, in €/MWh."""
    band = rules.power_band(power_kw)
    pz = Fraction(zonal_price_eur_mwh)
    premium = Fraction(band.tp_base_eur_mwh) + max(
        Fraction(0), Fraction(rules.TIP_PRICE_PIVOT_EUR_MWH) - pz
    )
    capped = min(Fraction(band.cap_eur_mwh), premium)
    factor = Fraction(rules.grant_factor(capital_grant_pct))
    return (capped + Fraction(fc_zonale(area, source))) * (1 - factor)


def tip_before_f_micro(
    band: rules.PowerBand, fc_eur_mwh: Decimal, pz_micro: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """min[CAP; TP_base + max(0; 180 − Pz_h)] + FC_zonale per hour, in micro-€/MWh."""
    pivot = int(rules.TIP_PRICE_PIVOT_EUR_MWH * MICRO_PER_EUR)
    room = int((band.cap_eur_mwh - band.tp_base_eur_mwh) * MICRO_PER_EUR)
    base = int((band.tp_base_eur_mwh + fc_eur_mwh) * MICRO_PER_EUR)
    out: npt.NDArray[np.int64] = np.clip(pivot - pz_micro, 0, room) + base
    return out
