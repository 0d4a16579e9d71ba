"""The machine-readable CSV of a settlement run (``report.csv``: stable English keys).

The people-facing PDFs are :mod:`.community_report`, :mod:`.statements`, :mod:`.council`
(reportlab: maintained, pure Python with no system libraries, and it draws its own charts, so
one dependency gives both the PDF and the charts), in the language of :mod:`..i18n`.
"""

from __future__ import annotations

import csv
import io
from typing import Any


def run_csv(run: dict[str, Any]) -> str:
    """Plants and members of a run as one CSV (a ``section`` column tells them apart)."""
    result = run["result"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "section",
            "id",
            "shared_wh",
            "allocated_wh",
            "incentivised_wh",
            "tip_eur",
            "valorisation_eur",
            "amount_eur",
        ]
    )
    writer.writerow(
        [
            "community",
            run["community"],
            result["shared_wh"],
            "",
            result["incentivised_wh"],
            result["tip_eur"],
            result["valorisation_eur"],
            "",
        ]
    )
    for plant in result["plants"]:
        writer.writerow(
            [
                "plant",
                plant["id"],
                "",
                plant["allocated_wh"],
                plant["incentivised_wh"],
                plant["tip_eur"],
                plant.get("valorisation_eur", ""),
                "",
            ]
        )
    for member in result["members"]:
        writer.writerow(
            ["member", member["id"], member["shared_wh"], "", "", "", "", member["amount_eur"]]
        )
    for row in _cycle_rows(run):
        writer.writerow(row)
    return out.getvalue()


def _cycle_rows(run: dict[str, Any]) -> list[list[Any]]:
    """Rows of the operating cycle (#10): a forced finalisation's reason, a year run's
    balance per member (year − final months), a correction's difference per member."""
    rows: list[list[Any]] = []
    if run.get("forced_reason"):
        rows.append(["forced", run["forced_reason"], "", "", "", "", "", ""])
    result = run["result"]
    for member in (result.get("balances") or {}).get("members", []):
        rows.append(["balance", member["id"], "", "", "", "", "", member["balance_eur"]])
    for member in (result.get("differences") or {}).get("members", []):
        rows.append(["difference", member["id"], "", "", "", "", "", member["difference_eur"]])
    gse = run.get("gse")
    if gse:
        for payment in gse["payments"]:
            label = f"{payment['tipo']} {payment['period']} {payment['date'] or ''}".strip()
            rows.append(["gse_payment", label, "", "", "", "", "", payment["amount_eur"]])
        rows.append(["gse_received", run["period"], "", "", "", "", "", gse["received_eur"]])
        rows.append(["gse_balance_due", run["period"], "", "", "", "", "", gse["balance_due_eur"]])
    return rows


def member_of(run: dict[str, Any], member_id: str) -> dict[str, Any]:
    """A member's entry of a run (KeyError when absent)."""
    for member in run["result"]["members"]:
        if member["id"] == member_id:
            return dict(member)
    raise KeyError(member_id)
