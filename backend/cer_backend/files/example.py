"""The example community: a municipality's CER with a year of synthetic hourly data.

``generate_example(dest_dir)`` writes, deterministically from a seed:

- ``community.yaml``: *CER Borgo Sole* (Toscana, zone CNOR), the municipality with PV on two
  schools, the town hall, the gym (with a 20 % capital grant, in service in April 2025) and a
  pre-existing plant on the depot (2020: valorisation only), public lighting, the library, a
  parish with its own plant, households (one with rooftop PV), shops and two associations;
- ``readings.csv``: one year of hourly readings of every POD
  (``pod,hour_start,injected_wh,withdrawn_wh``), only on the days each member belonged to the
  community, with a three-day gap on one household meter to show missing hours;
- ``dso/YYYY-MM.csv``: the same hours of the 24 points without Home Assistant (households,
  shops, associations, the parish) as the distributor gives them: ``dso-wide`` quarter-hours
  in kWh that add up exactly to the hourly Wh (``cer-backend demo`` imports these, and
  ``readings.csv`` only for the municipality's points, which upload through Home Assistant);
- ``prices.csv``: hourly CNOR zonal prices for the year (``hour_start,zone,eur_mwh``), a few
  negative around spring middays;
- ``study.yaml``: a feasibility study of the same plants for ``cer-backend project``.

The data are synthetic (clear-sky PV shape × daily cloudiness; load profiles by type), not
measurements. About 32 PODs × 8,760 hours: ~13 MB of CSV, generated in about 2 s; the files
under ``examples/comune`` are this function's output for the default seed and year.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from ..domain.period import Period

F64 = npt.NDArray[np.float64]
DEFAULT_SEED: Final = 2025
DEFAULT_YEAR: Final = 2025


@dataclass(frozen=True)
class ExampleFiles:
    """Paths of the generated example."""

    community: Path
    readings: Path
    prices: Path
    study: Path
    #: the distributor's quarter-hour files (dso-wide) of the members without Home Assistant
    dso: tuple[Path, ...] = ()


@dataclass(frozen=True)
class _Point:
    pod: str
    member: str
    load: str  # load profile
    load_kw: float  # scale of the load profile
    pv_kw: float = 0.0


# (id, name, type, joined, left)
_MEMBERS: Final = [
    ("comune", "Comune di Borgo Sole", "municipality", None, None),
    ("parrocchia", "Parrocchia di San Martino", "religious", None, None),
    ("proloco", "Pro Loco Borgo Sole", "association", None, None),
    ("misericordia", "Misericordia di Borgo Sole", "third_sector", None, None),
    ("bar_centrale", "Bar Centrale snc", "sme", None, None),
    ("panificio", "Panificio Rossi srl", "sme", "2025-03-01", None),
    ("farmacia", "Farmacia Comunale srl", "sme", None, None),
    ("ferramenta", "Ferramenta Bianchi", "sme", None, None),
    ("rsa", "RSA Villa Serena (cooperativa sociale)", "third_sector", None, None),
    ("caseificio", "Caseificio Borgo Sole srl", "sme", None, None),
    ("supermercato", "Supermercato Sole srl", "sme", "2024-09-01", None),
    *[(f"famiglia_{n:02d}", f"Famiglia {n:02d}", "person", None, None) for n in range(1, 15)],
]
_LEAVING: Final = {"famiglia_14": "2025-09-01"}
_JOINING: Final = {"famiglia_13": "2025-05-01"}

# (plant id, member POD index, power kW, commissioned, capital grant %)
_PLANTS: Final = [
    ("magazzino", "IT001E00000105", 30, "2020-05-10", 0),
    ("scuola_elementare", "IT001E00000101", 60, "2024-09-02", 0),
    ("scuola_media", "IT001E00000102", 80, "2024-10-15", 0),
    ("municipio", "IT001E00000103", 45, "2024-11-20", 0),
    ("oratorio", "IT001E00000201", 20, "2025-01-20", 0),
    ("casa_verdi", "IT001E00000401", 6, "2024-12-05", 0),
    ("palestra", "IT001E00000104", 150, "2025-04-10", 20),
]


def _points() -> list[_Point]:
    comune = [
        _Point("IT001E00000101", "comune", "school", 14, 60),
        _Point("IT001E00000102", "comune", "school", 18, 80),
        _Point("IT001E00000103", "comune", "office", 12, 45),
        _Point("IT001E00000104", "comune", "gym", 9, 150),
        _Point("IT001E00000105", "comune", "depot", 3, 30),
        _Point("IT001E00000106", "comune", "library", 4),
        _Point("IT001E00000107", "comune", "lighting", 7),
        _Point("IT001E00000108", "comune", "lighting", 4),
    ]
    others = [
        _Point("IT001E00000201", "parrocchia", "parish", 3, 20),
        _Point("IT001E00000202", "proloco", "office", 1.5),
        _Point("IT001E00000203", "misericordia", "office", 3),
        _Point("IT001E00000301", "bar_centrale", "shop", 4),
        _Point("IT001E00000302", "panificio", "bakery", 6),
        _Point("IT001E00000303", "farmacia", "shop", 3),
        _Point("IT001E00000304", "ferramenta", "shop", 2),
        _Point("IT001E00000204", "rsa", "rest_home", 30),
        _Point("IT001E00000305", "caseificio", "dairy", 45),
        _Point("IT001E00000306", "supermercato", "shop", 35),
    ]
    homes = [
        _Point(f"IT001E{400 + n:08d}", f"famiglia_{n:02d}", "home", 0.9 + 0.05 * (n % 5))
        for n in range(1, 15)
    ]
    homes[0] = _Point(homes[0].pod, homes[0].member, "home", 1.1, 6)
    return comune + others + homes


#: members whose points upload through Home Assistant; the others' data come from the
#: distributor's files (dso-wide, one per month), as for most members of a real community
_WITH_HOME_ASSISTANT: Final = frozenset({"comune"})


def _membership(period: Period, member: str) -> npt.NDArray[np.bool_]:
    """The hours the member belonged to the community (no readings outside them)."""
    entry = next(m for m in _MEMBERS if m[0] == member)
    joined = entry[3] or _JOINING.get(member)
    left = entry[4] or _LEAVING.get(member)
    inside = np.ones(period.hours, dtype=np.bool_)
    if joined:
        inside[: period.hour_index(dt.date.fromisoformat(joined))] = False
    if left:
        inside[period.hour_index(dt.date.fromisoformat(left)) :] = False
    return inside


_QUARTER_LABELS: Final = [
    f"{q // 4:02d}:{q % 4 * 15:02d}-{(q + 1) // 4:02d}:{(q + 1) % 4 * 15:02d}" for q in range(96)
]


def _kwh(wh: int) -> str:
    """Wh as the distributor writes kWh: three decimals after a comma."""
    return f"{wh // 1000},{wh % 1000:03d}"


def _quarters(wh: int) -> list[str]:
    """An hour's Wh as four quarter-hours that add up to it exactly."""
    base, rest = divmod(wh, 4)
    return [_kwh(base + (1 if k < rest else 0)) for k in range(4)]


def _write_dso_wide(
    folder: Path,
    period: Period,
    metered: list[tuple[str, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]],
) -> list[Path]:
    """One dso-wide file per month: a row per POD, day and direction, 92/96/100 values."""
    folder.mkdir(parents=True, exist_ok=True)
    header = "POD;Data;Grandezza;" + ";".join(_QUARTER_LABELS) + "\n"
    starts = period.day_starts.tolist()
    paths: list[Path] = []
    for month in period.months:
        path = folder / f"{month}.csv"
        lines = [header]
        for pod, injected, withdrawn, keep in metered:
            for index, day in enumerate(period.days):
                if f"{day.year:04d}-{day.month:02d}" != month:
                    continue
                first, end = starts[index], starts[index + 1]
                if not keep[first:end].all():
                    continue
                label = day.strftime("%d/%m/%Y")
                for word, values in (("Prelievo", withdrawn), ("Immissione", injected)):
                    cells = [q for wh in values[first:end].tolist() for q in _quarters(wh)]
                    lines.append(f"{pod};{label};{word};{';'.join(cells)}\n")
        path.write_text("".join(lines), encoding="utf-8", newline="")
        paths.append(path)
    return paths


def _community_yaml(points: list[_Point]) -> str:
    lines = [
        "# CER Borgo Sole: the example community of cer_community (synthetic data).",
        "# Generated by examples/generate.py; edit the generator, not this file.",
        "community:",
        "  name: CER Borgo Sole",
        "  region: Toscana",
        "  cabina_primaria: AC001E01725",
        "  constituted: 2024-06-01",
        "  cu_afa_eur_mwh:            # TRAS_E: 2024 from ARERA; 2025 assumed equal (OPEN)",
        '    "2024": 10.57',
        '    "2025": 10.57',
        "  statute:",
        "    management_pct: 15",
        "    management_from: tip",
        "    valorisation_to: plant_owners",
        "    social_fund_pct: 10",
        "    investment_fund_pct: 0",
        "    producers_pct: 20",
        "    consumers_by: coincident_withdrawal",
        "    surplus_to: non_business_consumers",
        "",
        "members:",
    ]
    for member_id, name, kind, joined_on, left_on in _MEMBERS:
        pods = [p.pod for p in points if p.member == member_id]
        lines += [
            f"  - id: {member_id}",
            f"    name: {name}",
            f"    type: {kind}",
            f"    pods: [{', '.join(pods)}]",
        ]
        joined = joined_on or _JOINING.get(member_id)
        left = left_on or _LEAVING.get(member_id)
        if joined:
            lines.append(f"    joined: {joined}")
        if left:
            lines.append(f"    left: {left}")
    lines += ["", "plants:"]
    owner_of = {p.pod: p.member for p in points}
    for plant_id, pod, power, commissioned, grant in _PLANTS:
        lines += [
            f"  - id: {plant_id}",
            f"    pod: {pod}",
            f"    owner: {owner_of[pod]}",
            f"    power_kw: {power}",
            "    source: pv",
            f"    commissioned: {commissioned}",
        ]
        if grant:
            lines.append(f"    capital_grant_pct: {grant}")
    return "\n".join(lines) + "\n"


def _calendar(period: Period) -> tuple[F64, F64, npt.NDArray[np.bool_], list[str], F64]:
    """Local hour of day, day of year, working day, ISO start and UTC offset of each hour."""
    hour_of_day = np.zeros(period.hours)
    day_of_year = np.zeros(period.hours)
    working = np.zeros(period.hours, dtype=np.bool_)
    offset = np.zeros(period.hours)
    stamps: list[str] = []
    for h in range(period.hours):
        start = period.hour_start(h)
        hour_of_day[h] = start.hour
        day_of_year[h] = start.timetuple().tm_yday
        working[h] = start.weekday() < 5
        delta = start.utcoffset()
        offset[h] = 0 if delta is None else delta.total_seconds() / 3600
        stamps.append(start.isoformat())
    return hour_of_day, day_of_year, working, stamps, offset


#: the example's place (Tuscany): latitude and longitude in degrees
_LATITUDE, _LONGITUDE = 43.3, 11.3
#: the yearly yield the PV aims at, kWh per kWp (PVGIS gives about 1,300 in Tuscany)
_YIELD_KWH_PER_KWP = 1300.0
#: mean of the daily cloudiness factor (beta(4, 1.6))
_MEAN_CLOUDS = 4.0 / 5.6


def _sun_height(solar_hour: F64, day: F64) -> F64:
    """Sine of the sun's elevation at a solar time and day of the year (Cooper's declination).

    Positive from sunrise to sunset: the day lasts about 9 h in December and 15 h in June
    at the example's latitude.
    """
    declination = np.radians(23.44 * np.sin(2 * math.pi * (day + 284) / 365))
    latitude = math.radians(_LATITUDE)
    hour_angle = np.radians(15.0 * (solar_hour - 12.0))
    return np.asarray(
        math.sin(latitude) * np.sin(declination)
        + math.cos(latitude) * np.cos(declination) * np.cos(hour_angle),
        dtype=np.float64,
    )


def _solar(hour: F64, day: F64, utc_offset: F64, rng: np.random.Generator) -> F64:
    """kW per kWp: clear sky from sunrise to sunset × daily cloudiness (≈ 1,300 kWh/kWp a year).

    The clear-sky output follows the sun's elevation at the middle of each hour (local mean
    solar time from the clock, its UTC offset and the longitude); it is scaled so that the
    year yields :data:`_YIELD_KWH_PER_KWP` on average over the cloudiness.
    """
    solar_hour = hour + 0.5 - utc_offset + _LONGITUDE / 15.0
    height = np.clip(_sun_height(solar_hour, day), 0, None)
    clear = height**1.15
    scale = _YIELD_KWH_PER_KWP / (float(clear.sum()) * _MEAN_CLOUDS)
    days = int(day.max())
    clouds = rng.beta(4.0, 1.6, size=days + 1)
    return np.asarray(clear * scale * clouds[day.astype(int)], dtype=np.float64)


def _load(
    profile: str, hour: F64, day: F64, working: npt.NDArray[np.bool_], dark: npt.NDArray[np.bool_]
) -> F64:
    """kW per unit of scale for a load profile."""
    summer_break = (day >= 182) & (day <= 243)
    daytime = (hour >= 8) & (hour < 18)
    if profile == "school":
        return np.where(working & daytime & ~summer_break, 1.0, 0.12)
    if profile == "office":
        return np.where(working & daytime, 1.0, 0.15)
    if profile == "gym":
        return np.where((hour >= 15) & (hour < 23), 1.0, 0.1) * np.where(summer_break, 0.4, 1.0)
    if profile == "depot":
        return np.where(working & (hour >= 7) & (hour < 14), 1.0, 0.2)
    if profile == "library":
        return np.where(working & (hour >= 9) & (hour < 19), 1.0, 0.1)
    if profile == "lighting":
        return np.where(dark, 1.0, 0.0)
    if profile == "parish":
        return np.where((hour >= 17) & (hour < 21), 1.0, 0.15)
    if profile == "shop":
        return np.where((hour >= 8) & (hour < 20) & (day % 7 != 5), 1.0, 0.2)
    if profile == "rest_home":
        return np.where((hour >= 7) & (hour < 21), 1.0, 0.6)
    if profile == "dairy":
        return np.where(working & (hour >= 5) & (hour < 17), 1.0, 0.3)
    if profile == "bakery":
        return np.where((hour >= 3) & (hour < 12), 1.0, 0.25)
    evening = np.exp(-(((hour - 20) / 2.2) ** 2))
    morning = 0.5 * np.exp(-(((hour - 7.5) / 1.2) ** 2))
    return np.asarray(0.25 + evening + morning, dtype=np.float64)  # home


def generate_example(
    dest_dir: str | Path, seed: int = DEFAULT_SEED, year: int = DEFAULT_YEAR
) -> ExampleFiles:
    """Write the example community and a year of readings and prices into ``dest_dir``."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    period = Period.parse(str(year))
    hour, day, working, stamps, utc_offset = _calendar(period)
    sun = _solar(hour, day, utc_offset, rng)
    dark = sun <= 0
    points = _points()

    community_path = dest / "community.yaml"
    community_path.write_text(_community_yaml(points), encoding="utf-8")

    gap_pod = "IT001E00000407"
    gap = (day >= 310) & (day < 313)  # a meter silent for three days in November
    readings_path = dest / "readings.csv"
    metered: list[tuple[str, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]]
    metered = []
    with readings_path.open("w", encoding="utf-8", newline="") as out:
        out.write("pod,hour_start,injected_wh,withdrawn_wh\n")
        for point in points:
            noise = rng.lognormal(0.0, 0.25, size=period.hours)
            load_wh = _load(point.load, hour, day, working, dark) * point.load_kw * 1000 * noise
            pv_wh = sun * point.pv_kw * 1000 * rng.uniform(0.92, 1.0, size=period.hours)
            commissioned = next((p[3] for p in _PLANTS if p[1] == point.pod), None)
            if commissioned is not None:
                start = period.hour_index(dt.date.fromisoformat(commissioned))
                pv_wh[:start] = 0
            injected = np.maximum(pv_wh - load_wh, 0).round().astype(np.int64)
            withdrawn = np.maximum(load_wh - pv_wh, 0).round().astype(np.int64)
            keep = ~gap if point.pod == gap_pod else np.ones(period.hours, dtype=np.bool_)
            keep &= _membership(period, point.member)
            inj_list, wdr_list = injected.tolist(), withdrawn.tolist()
            out.writelines(
                f"{point.pod},{stamps[h]},{inj_list[h]},{wdr_list[h]}\n"
                for h in np.flatnonzero(keep).tolist()
            )
            if point.member not in _WITH_HOME_ASSISTANT:
                metered.append((point.pod, injected, withdrawn, keep))
    dso_paths = _write_dso_wide(dest / "dso", period, metered)

    prices_path = dest / "prices.csv"
    season = np.sin(2 * math.pi * (day - 81) / 365)
    price = (
        112
        + 28 * np.exp(-(((hour - 20) / 2.0) ** 2))
        + 10 * np.exp(-(((hour - 8) / 1.5) ** 2))
        - (22 + 18 * season) * sun / max(float(sun.max()), 1e-9)
        + rng.normal(0, 9, size=period.hours)
    )
    sunday = ~working & (day % 7 == 5)
    spring_noon = sunday & (day > 90) & (day < 150) & (hour >= 12) & (hour <= 14)
    price = np.where(spring_noon, -np.abs(rng.normal(3, 2, size=period.hours)), price)
    with prices_path.open("w", encoding="utf-8", newline="") as out:
        out.write("hour_start,zone,eur_mwh\n")
        out.writelines(f"{stamps[h]},CNOR,{price[h]:.2f}\n" for h in range(period.hours))

    study_path = dest / "study.yaml"
    study_lines = [
        "# Feasibility study of the example plants (cer-backend project --study …).",
        "study:",
        "  years: 20",
        f"  first_year: {year}",
        "  degradation_pct: 0.4",
        "  discount_rate_pct: 4.45",
        "  zonal_price_eur_mwh: 110",
        "  energy_price_eur_kwh: 0.28",
        "  cu_afa_eur_mwh: 10.57",
        "  region: Toscana",
        "plants:",
    ]
    for plant_id, _pod, power, commissioned, grant in _PLANTS:
        if commissioned < "2021-12-16":
            continue
        produced = power * 1300
        study_lines += [
            f"  - id: {plant_id}",
            f"    power_kw: {power}",
            f"    produced_kwh: {produced}",
            f"    self_consumed_kwh: {produced * 35 // 100}",
            "    shared_fraction: 0.7",
        ]
        if grant:
            study_lines.append(f"    capital_grant_pct: {grant}")
    study_path.write_text("\n".join(study_lines) + "\n", encoding="utf-8")
    return ExampleFiles(community_path, readings_path, prices_path, study_path, tuple(dso_paths))
