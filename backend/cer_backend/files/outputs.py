"""CSV outputs of ``settle --out DIR``: hourly detail, per plant, per member, per month,
per configuration (cabina primaria)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..domain.money import eur
from ..domain.prices import from_micro
from ..domain.settlement import SettlementResult

OUTPUT_FILES = (
    "hourly.csv",
    "plants.csv",
    "members.csv",
    "months.csv",
    "configurations.csv",
)


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_settlement_csv(result: SettlementResult, directory: str | Path) -> list[Path]:
    """Write the CSV files of ``result`` into ``directory`` (created); return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    period = result.period
    hourly = result.hourly
    _write(
        out / "hourly.csv",
        (
            "hour_start",
            "injected_wh",
            "withdrawn_wh",
            "shared_wh",
            "incentivised_wh",
            "zonal_price_eur_mwh",
            "complete",
        ),
        (
            (
                period.hour_start(h).isoformat(),
                int(hourly.injected_wh[h]),
                int(hourly.withdrawn_wh[h]),
                int(hourly.shared_wh[h]),
                int(hourly.incentivised_wh[h]),
                format(from_micro(int(hourly.price_micro_eur_mwh[h])).normalize(), "f")
                if hourly.price_present[h]
                else "",
                "true" if hourly.complete[h] else "false",
            )
            for h in range(period.hours)
        ),
    )
    _write(
        out / "plants.csv",
        (
            "id",
            "owner",
            "power_kw",
            "band",
            "tip_eligible",
            "injected_wh",
            "allocated_wh",
            "incentivised_wh",
            "tip_eur",
            "valorisation_eur",
            "rid_eur",
            "gse_fee_eur",
            "cabina_primaria",
        ),
        (
            (
                p.id,
                p.owner,
                p.power_kw,
                p.band,
                str(p.tip_eligible).lower(),
                p.injected_wh,
                p.allocated_wh,
                p.incentivised_wh,
                eur(p.tip),
                eur(p.valorisation),
                eur(p.rid),
                eur(p.gse_fee),
                p.cabina_primaria,
            )
            for p in result.plants
        ),
    )
    _write(
        out / "members.csv",
        ("id", "name", "type", "membership_days", "withdrawn_wh", "shared_wh", "amount_eur"),
        (
            (
                m.id,
                m.name,
                m.type,
                m.membership_days,
                m.withdrawn_wh,
                m.shared_wh,
                eur(Fraction(m.amount_cents, 100)),
            )
            for m in result.members
        ),
    )
    _write(
        out / "months.csv",
        (
            "month",
            "injected_wh",
            "withdrawn_wh",
            "shared_wh",
            "incentivised_wh",
            "tip_eur",
            "valorisation_eur",
            "cu_afa_eur_mwh",
        ),
        (
            (
                m.month,
                m.injected_wh,
                m.withdrawn_wh,
                m.shared_wh,
                m.incentivised_wh,
                eur(m.tip),
                eur(m.valorisation),
                m.cu_afa_eur_mwh or "",
            )
            for m in result.months
        ),
    )
    keys = (
        "cabina_primaria",
        "points",
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "incentivised_wh",
        "tip_eur",
        "valorisation_eur",
        "surplus_earmarked_eur",
        "rid_eur",
        "gse_fees_eur",
    )
    configurations = [c.to_json_dict() for c in result.configurations]
    _write(
        out / "configurations.csv",
        (*keys, "plants"),
        ((*(c[k] for k in keys), " ".join(c["plants"])) for c in configurations),
    )
    return [out / name for name in OUTPUT_FILES]
