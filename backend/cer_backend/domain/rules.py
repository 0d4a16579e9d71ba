"""The GSE rules as data: zones by region, TIP power bands, acconto hours, member types, fees.

Sources: DM MASE 414/2023 ("decreto CACER", Annex 1) as amended by DM 127/2025, ARERA TIAD
(delibera 727/2022/R/eel), GSE "Regole Operative" (update of 16 July 2025), DM 106/2024.
Every number of ``GSE-RULES.md`` that is not configuration lives here, once; code looks it up
instead of branching on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

MarketZone = Literal["NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD"]
MARKET_ZONES: Final[tuple[str, ...]] = ("NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD")

Area = Literal["nord", "centro", "sud"]
Source = Literal["pv", "wind", "hydro", "biogas", "other"]
SOURCES: Final[tuple[str, ...]] = ("pv", "wind", "hydro", "biogas", "other")


@dataclass(frozen=True)
class Region:
    """What the region of a community decides: FC_zonale area, acconto hours, market zone,
    and the default location of the community (the region's approximate centre, degrees)."""

    name: str
    area: Area
    market_zone: str
    centre_lat: Decimal
    centre_lon: Decimal


def _regions() -> dict[str, Region]:
    # name, area, market zone, approximate geographic centre (lat, lon)
    table: list[tuple[str, Area, str, str, str]] = [
        ("Valle d'Aosta", "nord", "NORD", "45.74", "7.38"),
        ("Piemonte", "nord", "NORD", "45.05", "7.92"),
        ("Lombardia", "nord", "NORD", "45.62", "9.77"),
        ("Liguria", "nord", "NORD", "44.27", "8.70"),
        ("Trentino-Alto Adige", "nord", "NORD", "46.43", "11.17"),
        ("Veneto", "nord", "NORD", "45.65", "11.85"),
        ("Friuli-Venezia Giulia", "nord", "NORD", "46.15", "13.05"),
        ("Emilia-Romagna", "nord", "NORD", "44.52", "11.00"),
        ("Toscana", "centro", "CNOR", "43.45", "11.10"),
        ("Marche", "centro", "CNOR", "43.35", "13.15"),
        ("Lazio", "centro", "CSUD", "41.98", "12.77"),
        ("Umbria", "centro", "CSUD", "42.97", "12.49"),
        ("Abruzzo", "centro", "CSUD", "42.23", "13.85"),
        ("Campania", "sud", "CSUD", "40.86", "14.84"),
        ("Molise", "sud", "SUD", "41.67", "14.60"),
        ("Puglia", "sud", "SUD", "41.00", "16.60"),
        ("Basilicata", "sud", "SUD", "40.50", "16.08"),
        ("Calabria", "sud", "CALA", "39.07", "16.35"),
        ("Sicilia", "sud", "SICI", "37.59", "14.15"),
        ("Sardegna", "sud", "SARD", "40.06", "9.02"),
    ]
    return {
        name: Region(name, area, zone, Decimal(lat), Decimal(lon))
        for name, area, zone, lat, lon in table
    }


REGIONS: Final[dict[str, Region]] = _regions()

_REGION_ALIASES: Final[dict[str, str]] = {
    "valle d aosta": "Valle d'Aosta",
    "vallee d aoste": "Valle d'Aosta",
    "trentino alto adige": "Trentino-Alto Adige",
    "trentino aa": "Trentino-Alto Adige",
    "trentino alto adige sudtirol": "Trentino-Alto Adige",
    "friuli venezia giulia": "Friuli-Venezia Giulia",
    "fvg": "Friuli-Venezia Giulia",
    "emilia romagna": "Emilia-Romagna",
    "sicily": "Sicilia",
    "sardinia": "Sardegna",
    "tuscany": "Toscana",
    "lombardy": "Lombardia",
    "piedmont": "Piemonte",
    "apulia": "Puglia",
}


def _normalise(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else " " for c in name.casefold())
    return " ".join(cleaned.split())


def find_region(name: str) -> Region | None:
    """The region called ``name`` (case, hyphens and apostrophes do not matter)."""
    key = _normalise(name)
    for region in REGIONS.values():
        if _normalise(region.name) == key:
            return region
    alias = _REGION_ALIASES.get(key)
    return REGIONS[alias] if alias else None


# FC_zonale (€/MWh), the zonal correction of the TIP for photovoltaic plants only.
FC_ZONALE_EUR_MWH: Final[dict[Area, Decimal]] = {
    "nord": Decimal(10),
    "centro": Decimal(4),
    "sud": Decimal(0),
}

# H_j (hours/year) of the monthly advance (acconto): PV by area, other sources flat.
ACCONTO_HOURS_PV: Final[dict[Area, int]] = {"nord": 900, "centro": 1050, "sud": 1100}
ACCONTO_HOURS_BY_SOURCE: Final[dict[str, int]] = {
    "wind": 1500,
    "hydro": 1500,
    "biogas": 5000,
    "other": 500,
}
ACCONTO_ALPHA: Final[Decimal] = Decimal("0.60")
ACCONTO_Z_EUR_MWH: Final[Decimal] = Decimal(20)


def acconto_hours(source: str, area: Area) -> int:
    """H_j of a plant: the yearly hours the GSE assumes for the acconto."""
    if source == "pv":
        return ACCONTO_HOURS_PV[area]
    return ACCONTO_HOURS_BY_SOURCE[source]


@dataclass(frozen=True)
class PowerBand:
    """A TIP power band: plants up to ``max_kw`` (inclusive) get ``tp_base`` capped at ``cap``."""

    number: int
    max_kw: Decimal | None
    tp_base_eur_mwh: Decimal
    cap_eur_mwh: Decimal


# Tariffa incentivante premio (TIP): TP_base and CAP by the power of the plant (UP).
POWER_BANDS: Final[tuple[PowerBand, ...]] = (
    PowerBand(1, Decimal(200), Decimal(80), Decimal(120)),
    PowerBand(2, Decimal(600), Decimal(70), Decimal(110)),
    PowerBand(3, None, Decimal(60), Decimal(100)),
)
TIP_PRICE_PIVOT_EUR_MWH: Final[Decimal] = Decimal(180)  # TP_base + max(0; 180 − Pz)


def power_band(power_kw: Decimal) -> PowerBand:
    """The band of a plant of ``power_kw``: 200 kW is band 1, 600 kW band 2."""
    for band in POWER_BANDS:
        if band.max_kw is None or power_kw <= band.max_kw:
            return band
    raise AssertionError("unreachable: the last band has no limit")


MAX_PLANT_POWER_KW: Final[Decimal] = Decimal(1000)
MAX_CAPITAL_GRANT_PCT: Final[Decimal] = Decimal(40)
INCENTIVE_YEARS: Final[int] = 20
# Plants in service before this date are "pre-existing": valorisation only, ≤ 30 % of power.
PRE_EXISTING_BEFORE: Final[dt.date] = dt.date(2021, 12, 16)
PRE_EXISTING_MAX_SHARE: Final[Decimal] = Decimal("0.30")


def grant_factor(capital_grant_pct: Decimal) -> Decimal:
    """F = 0.5 × g / 0.40, the TIP reduction for a capital grant share g (0–40 %)."""
    return Decimal("0.5") * (capital_grant_pct / Decimal(100)) / Decimal("0.40")


# Groups of self-consumers in one building: avoided network losses c_PR by plant voltage,
# applied to E_ACVC × Pz (ARERA TIAD).
LOSS_FACTOR_C_PR: Final[dict[str, Decimal]] = {"mv": Decimal("0.012"), "lv": Decimal("0.026")}

# Surplus rule: thresholds of E_ACI,j / E_imm,j per set j of incentivised plants.
SurplusSet = Literal["tip_only", "tip_with_grant"]
SURPLUS_THRESHOLDS: Final[dict[SurplusSet, Decimal]] = {
    "tip_only": Decimal("0.55"),
    "tip_with_grant": Decimal("0.45"),
}


@dataclass(frozen=True)
class MemberType:
    """What a member type may do and how the rules treat it.

    ``control_rights``: may hold control rights in a CER (GSE-RULES §8).
    ``business``: an enterprise (the surplus earmark must not reach it).
    ``f_exempt``: the capital-grant reduction F does not apply to incentivised energy
    attributable to its withdrawals (territorial bodies, religious, third-sector and
    environmental-protection bodies, natural persons; GSE-RULES §2).
    ``natural_person``: a person, exempt from F only from ``settings.f_exemption_persons_from``
    (DM 127/2025; GSE-RULES §2) and never named on a public page.
    ``excluded``: cannot be a member at all (GSE-RULES §8: an error of ``check``, refused by
    the registry).
    """

    control_rights: bool
    business: bool
    f_exempt: bool
    natural_person: bool = False
    excluded: bool = False

    @property
    def may_be_public(self) -> bool:
        """A body (not a person, not a firm) may agree to be named on the public page."""
        return not self.natural_person and not self.business


MEMBER_TYPES: Final[dict[str, MemberType]] = {
    "person": MemberType(control_rights=True, business=False, f_exempt=True, natural_person=True),
    "sme": MemberType(control_rights=True, business=True, f_exempt=False),
    "association": MemberType(control_rights=True, business=False, f_exempt=False),
    "municipality": MemberType(control_rights=True, business=False, f_exempt=True),
    "public_body": MemberType(control_rights=True, business=False, f_exempt=True),
    "religious": MemberType(control_rights=True, business=False, f_exempt=True),
    "third_sector": MemberType(control_rights=True, business=False, f_exempt=True),
    "environmental": MemberType(control_rights=True, business=False, f_exempt=True),
    "research": MemberType(control_rights=True, business=False, f_exempt=False),
    # GSE-RULES §8: cannot be members at all (accepted by the file's structure, so that
    # ``check`` can name them as errors).
    "large_enterprise": MemberType(
        control_rights=False, business=True, f_exempt=False, excluded=True
    ),
    "central_administration": MemberType(
        control_rights=False, business=False, f_exempt=False, excluded=True
    ),
}


@dataclass(frozen=True)
class GseFeeSchedule:
    """GSE fee (DM 106/2024) of a plant per year."""

    free_up_to_kw: Decimal
    base_eur: Decimal
    base_up_to_kw: Decimal
    eur_per_kw_beyond: Decimal

    def per_year(self, power_kw: Decimal) -> Decimal:
        """The yearly fee of a plant of ``power_kw``."""
        if power_kw <= self.free_up_to_kw:
            return Decimal(0)
        beyond = max(Decimal(0), power_kw - self.base_up_to_kw)
        return self.base_eur + self.eur_per_kw_beyond * beyond


# 0 up to 3 kW; 15 € for 3–20 kW; 15 € plus 1 € per kW beyond the first 20 kW.
GSE_FEES: Final[GseFeeSchedule] = GseFeeSchedule(
    free_up_to_kw=Decimal(3),
    base_eur=Decimal(15),
    base_up_to_kw=Decimal(20),
    eur_per_kw_beyond=Decimal(1),
)


# Firms whose main ATECO is producing (35.11.00) or trading (35.14.00) electricity cannot be
# members at all (GSE-RULES §8).
EXCLUDED_ATECO_PREFIXES: Final[tuple[str, ...]] = ("35.11", "35.14")
ATECO_PATTERN: Final[str] = r"\d{2}(\.\d{1,2}){0,2}"

# The OPEN rules' defaults (GSE-RULES §2) and the community's operating thresholds: the
# ``settings`` block of the community file.
F_EXEMPTION_PERSONS_FROM: Final[dt.date] = dt.date(2025, 5, 16)  # DM MASE 127 of 16 May 2025
FINALISE_MIN_COVERAGE_PCT: Final[Decimal] = Decimal(99)
LANGUAGES: Final[tuple[str, ...]] = ("it", "en")
#: ``settings.report_delivery``: reports e-mailed by hand, or by ``serve`` once a month is final
REPORT_DELIVERY: Final[tuple[str, ...]] = ("manual", "after_finalise")
DEFAULT_LANGUAGE: Final[str] = "it"
#: ``settings.reading_sources``: where a POD-hour may come from, best first by default (the
#: distributor's meter, then Home Assistant, then figures keyed in, then estimates)
READING_SOURCES: Final[tuple[str, ...]] = ("dso", "ha", "manual", "estimate")

# GSE-RULES §2: a plant commissioned in this window (before the CACER decree) and before the
# CER was constituted earns the TIP only with a pre-dated document showing it was built for it.
BUILT_FOR_CER_WINDOW: Final[tuple[dt.date, dt.date]] = (
    dt.date(2021, 12, 16),
    dt.date(2024, 1, 24),
)

# What a point is, for alerts (``{pod, role}`` in the community file).
POD_ROLES: Final[tuple[str, ...]] = ("lighting", "building", "other")

POD_PATTERN: Final[str] = r"IT\d{3}E\d{8,9}"
CABINA_PRIMARIA_PATTERN: Final[str] = r"AC\d{3}E\d{5}"
