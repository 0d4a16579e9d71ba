"""GSE figures and reconciliation (#10): what the GSE paid against our runs."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from cer_backend.domain.advance import monthly_advance
from cer_backend.domain.community import parse_community

from .conftest import COMMUNITY_A, Api
from .test_cycle_runs import FORCE, finalise, run, upload_month

pytestmark = pytest.mark.database

HEADER = (
    "configurazione;periodo;tipo;energia_condivisa_kwh;energia_incentivata_kwh;tip_eur;"
    "valorizzazione_eur;importo_eur;data\n"
)


def expected_acconto(month: str) -> Decimal:
    """What the GSE pays the one configuration for the month (GSE-RULES §5)."""
    advance = monthly_advance(parse_community(COMMUNITY_A), month)
    (configuration,) = advance.configurations
    return Decimal(configuration.tip_cents + configuration.valorisation_cents) / 100


def comma(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


async def test_gse_figures_are_recorded_and_a_divergence_is_flagged(api: Api) -> None:
    a = api.community_a
    await upload_month(api, "2025-06")
    status, _ = await finalise(api, (await run(api, "2025-06"))["id"])
    assert status == 200
    year = await run(api, "2025")
    assert (await finalise(api, year["id"], FORCE))[0] == 200
    june, july = expected_acconto("2025-06"), expected_acconto("2025-07")
    ours_kwh = Decimal(year["result"]["shared_wh"]) / 1000
    csv_text = (
        HEADER
        + f"AC001E01725;2025-06;acconto;;;;;{comma(june + 40)};2025-08-31\n"
        + f"AC001E01725;2025-07;acconto;;;;;{comma(july + 2)};2025-09-30\n"
        + f"AC001E01725;2025;conguaglio;{ours_kwh * Decimal('1.2'):.3f};;;;1000,00;2026-09-30\n"
        + "AC001E01725;2025;corrispettivo;;;;;-95,00;2026-09-30\n"
    ).replace(".", ",")
    status, answer, _ = await api.call(
        "POST",
        f"/communities/{a}/gse",
        "admin_a",
        data=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200, answer
    assert answer["rows"] == 4 and answer["new"] == 4
    # the same file again updates, never doubles
    form = aiohttp.FormData()
    form.add_field("file", csv_text.encode(), filename="gse-2025.csv", content_type="text/csv")
    status, again, _ = await api.call("POST", f"/communities/{a}/gse", "admin_a", data=form)
    assert status == 200 and again["updated"] == 4 and again["new"] == 0
    status, report, _ = await api.call(
        "GET", f"/communities/{a}/reconciliation?period=2025", "admin_a"
    )
    assert status == 200, report
    months = {m["month"]: m for m in report["months"]}
    assert months["2025-06"]["expected_acconto_eur"] == f"{june:.2f}"
    assert months["2025-06"]["difference_eur"] == "40.00" and months["2025-06"]["flagged"]
    assert months["2025-07"]["difference_eur"] == "2.00" and not months["2025-07"]["flagged"]
    assert months["2025-01"]["paid_eur"] is None
    assert not months["2025-07"]["causes"]
    assert months["2025-06"]["causes"] == []  # June is complete: nothing in our data explains it
    yearly = report["year"]
    assert yearly["ours"]["run"] == year["id"] and yearly["flagged"]
    shared = yearly["conguaglio"][0]["differences"][0]
    assert shared["figure"] == "shared_wh" and shared["flagged"]
    causes = " ".join(yearly["conguaglio"][0]["causes"])
    assert "POD-hours missing in our data" in causes
    received = june + 40 + july + 2 + 1000 - 95
    assert report["received_eur"] == f"{received:.2f}"
    money = Decimal(yearly["ours"]["money_eur"]) - Decimal(year["result"]["gse_fees_eur"])
    assert yearly["balance_due_eur"] == f"{money - received:.2f}"
    # the yearly report shows the GSE's payments received and the balance still due
    status, csv_body, _ = await api.call("GET", f"/settlements/{year['id']}/report.csv", "admin_a")
    lines = csv_body.decode().splitlines()
    assert f"gse_received,2025,,,,,,{received:.2f}" in lines
    assert f"gse_balance_due,2025,,,,,,{money - received:.2f}" in lines
    assert sum(line.startswith("gse_payment,") for line in lines) == 4
    status, pdf, _ = await api.call("GET", f"/settlements/{year['id']}/report.pdf", "admin_a")
    assert status == 200 and pdf.startswith(b"%PDF")


async def test_a_gse_file_with_errors_stores_nothing(api: Api) -> None:
    a = api.community_a
    bad = (
        HEADER
        + "AC001E01725;2025-06;acconto;;;;;12,50;2025-08-31\n"
        + "AC001E01725;2025-13;acconto;;;;;abc;2025-08-31\n"
        + "AC009E00000;2025-07;acconto;;;;;1,00;\n"
        + "AC001E01725;2025;corrispettivo;;;;;95,00;2026-09-30\n"
    )
    status, problem, _ = await api.call(
        "POST", f"/communities/{a}/gse", "admin_a", data=bad.encode()
    )
    assert status == 422
    messages = [e["message"] for e in problem["errors"]]
    assert any("gse.csv:3" in m and "periodo" in m for m in messages)
    assert any("gse.csv:3" in m and "importo_eur" in m for m in messages)
    assert any("gse.csv:5" in m and "negative" in m for m in messages)
    status, report, _ = await api.call(
        "GET", f"/communities/{a}/reconciliation?period=2025-06", "admin_a"
    )
    assert status == 200 and report["payments"] == []
    # an unknown configuration is refused too
    status, problem, _ = await api.call(
        "POST",
        f"/communities/{a}/gse",
        "admin_a",
        data=(HEADER + "AC009E00000;2025-07;acconto;;;;;1,00;\n").encode(),
    )
    assert status == 422 and "AC009E00000" in problem["errors"][0]["message"]
    assert (await api.call("GET", f"/communities/{a}/reconciliation", "admin_a"))[0] == 422
    assert (
        await api.call(
            "GET", f"/communities/{api.community_b}/reconciliation?period=2025", "admin_a"
        )
    )[0] == 403
