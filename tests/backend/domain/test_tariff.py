"""TIP per plant and hour: the unit checks of GSE-RULES §2, band edges, FC by region, F."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cer_backend.domain import rules
from cer_backend.domain.tariff import tip_before_f_micro, tip_eur_mwh

# (power kW, area, source, Pz, capital grant %, expected TIP €/MWh) — GSE-RULES §2 unit checks
UNIT_CHECKS = [
    (100, "sud", "pv", "130", 0, 120),
    (100, "sud", "pv", "150", 0, 110),
    (100, "sud", "pv", "250", 0, 80),
    (100, "sud", "pv", "-5", 0, 120),
    (100, "nord", "pv", "100", 0, 130),
    (100, "centro", "pv", "160", 0, 104),
    (300, "sud", "pv", "160", 0, 90),
    (600, "sud", "pv", "100", 0, 110),
    (800, "nord", "pv", "170", 0, 80),
    (100, "centro", "pv", "130", 20, 93),
    (100, "nord", "wind", "100", 0, 120),
]


@pytest.mark.parametrize(("power", "area", "source", "pz", "grant", "expected"), UNIT_CHECKS)
def test_unit_checks(  # noqa: PLR0917
    power: int, area: rules.Area, source: str, pz: str, grant: int, expected: int
) -> None:
    tip = tip_eur_mwh(Decimal(power), Decimal(pz), area, source, Decimal(grant))
    assert tip == expected


@pytest.mark.parametrize(("power", "band"), [("200", 1), ("200.001", 2), ("600", 2), ("600.01", 3)])
def test_band_edges(power: str, band: int) -> None:
    assert rules.power_band(Decimal(power)).number == band


def test_band_edge_prices() -> None:
    # at Pz = 0 each band reaches its CAP; 200 kW still gets band 1's CAP of 120
    assert tip_eur_mwh(Decimal(200), Decimal(0), "sud") == 120
    assert tip_eur_mwh(Decimal("200.5"), Decimal(0), "sud") == 110
    assert tip_eur_mwh(Decimal(600), Decimal(0), "sud") == 110
    assert tip_eur_mwh(Decimal(601), Decimal(0), "sud") == 100


@pytest.mark.parametrize(
    ("region", "fc"),
    [
        ("Lombardia", 10),
        ("Valle d'Aosta", 10),
        ("Trentino-Alto Adige", 10),
        ("Friuli-Venezia Giulia", 10),
        ("Emilia-Romagna", 10),
        ("Toscana", 4),
        ("Lazio", 4),
        ("Abruzzo", 4),
        ("Umbria", 4),
        ("Marche", 4),
        ("Campania", 0),
        ("Puglia", 0),
        ("Sicilia", 0),
        ("Sardegna", 0),
    ],
)
def test_fc_zonale_by_region(region: str, fc: int) -> None:
    found = rules.find_region(region)
    assert found is not None
    # Pz 250: TP_base 80 + FC
    assert tip_eur_mwh(Decimal(100), Decimal(250), found.area) == 80 + fc
    # FC is PV only
    assert tip_eur_mwh(Decimal(100), Decimal(250), found.area, "hydro") == 80


@pytest.mark.parametrize(
    ("region", "zone"),
    [
        ("Toscana", "CNOR"),
        ("Lazio", "CSUD"),
        ("Campania", "CSUD"),
        ("Molise", "SUD"),
        ("Calabria", "CALA"),
        ("Sicilia", "SICI"),
        ("Sardegna", "SARD"),
        ("Veneto", "NORD"),
    ],
)
def test_market_zone_by_region(region: str, zone: str) -> None:
    found = rules.find_region(region)
    assert found is not None and found.market_zone == zone


@pytest.mark.parametrize(("grant", "factor"), [(0, "0"), (20, "0.25"), (40, "0.5"), (10, "0.125")])
def test_grant_factor(grant: int, factor: str) -> None:
    assert rules.grant_factor(Decimal(grant)) == Decimal(factor)


def test_f_reduces_after_fc() -> None:
    # (min(120, 80 + 50) + 4) × (1 − 0.5) = 62
    assert tip_eur_mwh(Decimal(100), Decimal(130), "centro", "pv", Decimal(40)) == 62


@given(
    pz=st.integers(min_value=-500_000_000, max_value=4_000_000_000),
    power=st.sampled_from(["3", "199.9", "200", "350", "600", "999"]),
    area=st.sampled_from(["nord", "centro", "sud"]),
)
def test_vectorised_matches_scalar(pz: int, power: str, area: rules.Area) -> None:
    band = rules.power_band(Decimal(power))
    fc = rules.FC_ZONALE_EUR_MWH[area]
    micro = tip_before_f_micro(band, fc, np.array([pz], dtype=np.int64))
    assert Fraction(int(micro[0]), 1_000_000) == tip_eur_mwh(
        Decimal(power),
        Fraction(pz, 1_000_000),
        area,
    )
