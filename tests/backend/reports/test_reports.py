"""The community report, statements and export, read back: Italian, reconciled, private."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest

from cer_backend.domain.community import parse_community
from cer_backend.domain.errors import InvalidInput
from cer_backend.i18n import language
from cer_backend.service.community_report import community_report_pdf
from cer_backend.service.council import council_report_pdf
from cer_backend.service.export import export_csv, export_xlsx
from cer_backend.service.gse import import_gse_figures
from cer_backend.service.report_model import ReportError
from cer_backend.service.statements import statement_csv, statement_pdf
from tests.backend.reports.energy import store_energy

from .conftest import (
    COMMUNITY,
    FORCED_REASON,
    GAP,
    NAMES,
    P_ROSSI,
    START,
    Settled,
    italian_amount,
    pdf_pages,
    settle_month,
    value_after,
)

pytestmark = pytest.mark.database

IT = language("it")
EN = language("en")


async def test_the_community_report_is_italian_and_its_money_adds_up_to_the_cent(
    settled: Settled,
) -> None:
    facts = await settled.facts()
    pages = pdf_pages(community_report_pdf(facts, IT))
    first = pages[0]
    lines = first.splitlines()
    assert "Rendiconto energetico della comunità" in first
    assert "CER Valverde · giugno 2025 · calcolo mensile" in first
    assert settled.community not in first  # names, not ids
    result = facts.result
    tip = italian_amount(
        value_after(lines, "TIP, tariffa incentivante sull'energia condivisa (GSE)")
    )
    valorisation = italian_amount(
        value_after(lines, "valorizzazione dell'energia condivisa (ARERA)")
    )
    income = italian_amount(value_after(lines, "= entrate della comunità"))
    management = italian_amount(value_after(lines, "gestione e spese di funzionamento (15 %)"))
    social = italian_amount(value_after(lines, "fondo sociale"))
    investment = italian_amount(value_after(lines, "fondo investimenti"))
    members = italian_amount(value_after(lines, "totale soci (3 soci)"))
    distributed = italian_amount(value_after(lines, "= ripartito"))
    assert tip == Decimal(result["tip_eur"]) and tip > 0
    assert valorisation == Decimal(result["valorisation_eur"]) and valorisation > 0
    assert tip + valorisation == income
    assert management + social + investment + members == distributed == income
    assert members == sum(Decimal(m["amount_eur"]) for m in result["members"])
    assert social > 0 and management > 0
    assert "Entrate e ripartizione coincidono al centesimo." in first
    # Italian formats: thousands with a dot, decimals with a comma
    shared = value_after(lines, "condivisa (minimo orario tra le due)")
    assert shared == IT.kwh(result["shared_wh"]).replace("\xa0", " ")
    assert "." in shared and shared.endswith(" kWh") and "," in shared
    assert value_after(lines, "= entrate della comunità").endswith(" €")
    # RID and fees apart, the surplus earmark and who got it
    assert "RID: vendita dell'energia immessa" in first
    assert "Corrispettivi GSE trattenuti dai pagamenti" in first
    text = " ".join(pages).replace("\n", " ")
    assert "Quota eccedente (C_ecc)" in text and "Famiglia Rossi (" in text
    # members and plants by name
    assert "Comune di Valverde" in text and "Bar Centrale" in text


async def test_completeness_is_on_page_one_when_under_100_percent(settled: Settled) -> None:
    facts = await settled.facts()
    first = pdf_pages(community_report_pdf(facts, IT))[0]
    assert "Dati incompleti: copertura del" in first
    expected = 4 * 720
    coverage = IT.coverage(Fraction(expected - len(GAP), expected))
    assert coverage.replace("\xa0", " ") in first
    assert f"{len(GAP)} ore-POD" in first
    sources = facts.result["readings_by_source"]
    assert sum(sources.values()) == expected - len(GAP)
    assert "Fonti delle letture (ore-POD): contatori del distributore" in first.replace("\n", " ")
    english = pdf_pages(community_report_pdf(facts, EN))[0]
    assert "Incomplete data: coverage" in english
    # a run made before runs counted their completeness: the same figures, counted here
    assert facts.result["completeness"]["expected_pod_hours"] == expected
    result = {k: v for k, v in facts.result.items() if k != "completeness"}
    older = pdf_pages(community_report_pdf(dataclasses.replace(facts, result=result), IT))[0]
    assert coverage.replace("\xa0", " ") in older and f"{len(GAP)} ore-POD" in older


async def test_a_complete_run_has_no_completeness_warning(database_url: str) -> None:
    complete = await settle_month(database_url, gap=False)
    try:
        first = pdf_pages(community_report_pdf(await complete.facts(), IT))[0]
    finally:
        await complete.engine.dispose()
    assert "Dati incompleti" not in first
    assert "Rendiconto energetico della comunità" in first


async def test_english_on_request(settled: Settled) -> None:
    facts = await settled.facts()
    first = pdf_pages(community_report_pdf(facts, EN))[0]
    assert "Community energy report" in first and "June 2025" in first
    assert "monthly settlement" in first
    tip = Decimal(facts.result["tip_eur"])
    assert EN.eur(tip) in first and EN.eur(tip).startswith("€")
    assert "Rendiconto" not in first


async def test_a_statement_holds_its_member_and_no_other(settled: Settled) -> None:
    facts = await settled.facts()
    for member in facts.result["members"]:
        pages = pdf_pages(statement_pdf(facts, member["id"], IT))
        text = "\n".join(pages)
        assert NAMES[member["id"]] in text
        assert (
            f"Il suo importo per il periodo: {IT.eur(member['amount_eur'])}".replace("\xa0", " ")
            in text
        )
        for other, name in NAMES.items():
            if other != member["id"]:
                assert name not in text, (member["id"], name)
        for other in facts.result["members"]:
            if other["id"] != member["id"] and other["amount_eur"] != member["amount_eur"]:
                assert IT.eur(other["amount_eur"]).replace("\xa0", " ") not in text
        assert "Come è stato calcolato il suo importo" in text
        assert "giugno 2025" in text
    rossi = "\n".join(pdf_pages(statement_pdf(facts, "rossi", IT)))
    assert "RSSMRA80A01H501U" in rossi and P_ROSSI in rossi
    assert f"non hanno trasmesso {len(GAP)} ore" in rossi
    assert "giorni di adesione nel periodo\n30" in rossi
    bar = "\n".join(pdf_pages(statement_pdf(facts, "bar", IT)))
    assert "Tutte le ore dei suoi POD sono state rilevate." in bar


async def test_statement_months_add_up_to_the_run(settled: Settled) -> None:
    facts = await settled.facts()
    for member in facts.result["members"]:
        months = facts.result["member_months"][member["id"]]
        assert sum(m["withdrawn_wh"] for m in months) == member["withdrawn_wh"]
        assert sum(m["shared_wh"] for m in months) == member["shared_wh"]
    rows = list(csv.reader(io.StringIO(statement_csv(facts, "rossi", IT)), delimiter=";"))
    assert rows[0][:3] == ["comunità", "periodo", "calcolo"]
    total = rows[-1]
    member = next(m for m in facts.result["members"] if m["id"] == "rossi")
    assert total[7] == "totale"
    assert Decimal(total[10].replace(",", ".")) == Decimal(member["amount_eur"])
    parts = [Decimal(v.replace(",", ".")) for v in total[11:15]]
    assert sum(parts) == Decimal(member["amount_eur"])


async def test_the_export_totals_equal_the_run(settled: Settled) -> None:
    facts = await settled.facts()
    result = facts.result
    members_total = sum(Decimal(m["amount_eur"]) for m in result["members"])
    income = Decimal(result["tip_eur"]) + Decimal(result["valorisation_eur"])
    rows = list(csv.reader(io.StringIO(export_csv(facts, IT)), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["riga", "codice fiscale", "nome", "tipologia", "importo euro"]
    amount = {tuple(r[:3]): Decimal(r[4].replace(",", ".")) for r in body}
    assert amount[("socio", "RSSMRA80A01H501U", "Famiglia Rossi")] == Decimal(
        next(m["amount_eur"] for m in result["members"] if m["id"] == "rossi")
    )
    assert amount[("totale soci", "", "totale soci")] == members_total
    assert amount[("totale generale", "", "totale generale (TIP + valorizzazione)")] == income
    assert amount[("gestione", "", "gestione e spese di funzionamento")] == Decimal(
        result["management_eur"]
    )
    assert amount[("fondo", "", "fondo sociale")] == Decimal(result["funds"]["social_eur"])
    assert all(r[-3:-1] == ["2025-06", facts.id] for r in body)
    book = openpyxl.load_workbook(io.BytesIO(export_xlsx(facts, EN)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:5] == ["row", "tax code", "name", "type", "amount euro"]
    by_kind = {}
    for row in values[1:]:
        by_kind.setdefault(row[0], []).append(row)
    assert Decimal(str(by_kind["members' total"][0][4])) == members_total
    assert Decimal(str(by_kind["grand total"][0][4])) == income
    assert sum(Decimal(str(r[4])) for r in by_kind["member"]) == members_total


async def test_a_draft_says_so_on_every_page_and_a_final_does_not(settled: Settled) -> None:
    facts = await settled.facts()
    pages = pdf_pages(community_report_pdf(facts, IT))
    assert len(pages) > 1 and all("BOZZA" in page for page in pages)
    assert all("DRAFT" in page for page in pdf_pages(community_report_pdf(facts, EN)))
    await settled.finalise()
    final = await settled.facts()
    pages = pdf_pages(community_report_pdf(final, IT))
    assert not any("BOZZA" in page for page in pages)
    assert "definitivo" in pages[0]
    # forced past the completeness guard: the reason is on page one
    first = pages[0].replace("\n", " ")
    assert "Reso definitivo forzando i controlli. Motivazione:" in first
    assert FORCED_REASON in first


async def test_the_council_report_is_two_pages_from_a_year_run(settled: Settled) -> None:
    facts = await settled.facts()
    with pytest.raises(ReportError):
        council_report_pdf(facts, IT)
    year = dataclasses.replace(facts, period="2025", kind="year")
    pages = pdf_pages(council_report_pdf(year, IT))
    assert len(pages) == 2
    assert "Relazione annuale al Consiglio comunale" in pages[0]
    assert "CO2 evitata" in pages[0] and "g CO2/kWh" in pages[0] and "fonte:" in pages[0]
    assert "Fondo sociale:" in pages[0]
    # the community's factor and source: CO2 = injected energy × 300 g/kWh
    text = pages[0].replace("\n", " ")
    assert "300,0 g CO2/kWh (fonte: Regione Toscana, inventario 2024)" in text
    tonnes = Decimal(facts.result["injected_wh"]) * 300 / Decimal(10**9)
    assert f"{IT.number(tonnes, 1)} tonnellate".replace("\xa0", " ") in text
    assert "acconto atteso per i mesi dell'anno" in text  # nothing recorded from the GSE
    paid = dataclasses.replace(
        year,
        gse={"payments": [{}], "received_eur": "900.00", "year": {"balance_due_eur": "10.00"}},
    )
    text = pdf_pages(council_report_pdf(paid, IT))[0].replace("\n", " ")
    assert "ricevuto dal GSE 900,00 €" in text and "acconto atteso" not in text
    assert "saldo ancora dovuto dal GSE (al netto dei corrispettivi) 10,00 €" in text


def test_the_emission_factor_is_a_checked_setting() -> None:
    document = copy.deepcopy(COMMUNITY)
    document["settings"].update(emission_factor_g_kwh=-1, report_delivery="weekly")
    with pytest.raises(InvalidInput) as caught:
        parse_community(document)
    fields = {p.path for p in caught.value.problems}
    assert {"settings.emission_factor_g_kwh", "settings.report_delivery"} <= fields
    settings = parse_community(COMMUNITY).settings
    assert settings.emission_factor_g_kwh == 300 and settings.report_delivery == "manual"


async def test_year_balances_and_correction_differences_are_shown(settled: Settled) -> None:
    facts = await settled.facts()
    balances = {
        "final_months": [{"period": "2025-06", "run": "x"}],
        "members": [
            {"id": "rossi", "year_eur": "10.00", "final_months_eur": "7.50", "balance_eur": "2.50"},
            {"id": "bar", "year_eur": "4.00", "final_months_eur": "5.00", "balance_eur": "-1.00"},
        ],
    }
    year = dataclasses.replace(
        facts, period="2025", kind="year", result={**facts.result, "balances": balances}
    )
    text = "\n".join(pdf_pages(community_report_pdf(year, IT)))
    assert "Saldo dell'anno rispetto ai mesi definitivi" in text
    assert "Famiglia Rossi\n10,00 €\n7,50 €\n2,50 €" in text
    assert "-1,00 €" in text
    own = "\n".join(pdf_pages(statement_pdf(year, "rossi", IT)))
    assert "già attribuito 7,50 €: il saldo dell'anno è 2,50 €" in own
    assert "-1,00 €" not in own  # another member's balance
    differences = {
        "supersedes": "old",
        "members": [
            {"id": "rossi", "final_eur": "5.00", "correction_eur": "6.25", "difference_eur": "1.25"}
        ],
    }
    correction = dataclasses.replace(
        facts, kind="correction", result={**facts.result, "differences": differences}
    )
    text = "\n".join(pdf_pages(community_report_pdf(correction, EN)))
    assert "correction" in text and "Differences from the superseded final run" in text
    own = "\n".join(pdf_pages(statement_pdf(correction, "rossi", EN)))
    assert "gave you €5.00: the difference is €1.25" in own


async def test_the_gse_payments_are_in_the_report_when_recorded(settled: Settled) -> None:
    facts = await settled.facts()
    assert facts.gse is None  # nothing recorded: no section
    assert "Pagamenti del GSE" not in "".join(pdf_pages(community_report_pdf(facts, IT)))
    await import_gse_figures(
        settled.engine,
        settled.community,
        "configurazione;periodo;tipo;energia_condivisa_kwh;energia_incentivata_kwh;tip_eur;"
        "valorizzazione_eur;importo_eur;data\n"
        "AC001E01725;2025-06;acconto;;;;;1234,56;2025-08-31\n",
        "gse.csv",
    )
    facts = await settled.facts()
    text = "\n".join(pdf_pages(community_report_pdf(facts, IT)))
    assert "Pagamenti del GSE" in text
    assert "acconto AC001E01725\ngiugno 2025\n31 agosto 2025\n1.234,56 €" in text
    assert "ricevuto dal GSE\n1.234,56 €" in text


async def test_a_year_s_conguaglio_is_set_against_our_figures(settled: Settled) -> None:
    facts = await settled.facts()
    gse = {
        "payments": [
            {"configuration": "AC001E01725", "period": "2025", "tipo": "conguaglio",
             "amount_eur": "2345.67", "date": "2026-09-30"},
        ],
        "received_eur": "2345.67",
        "year": {
            "received_eur": "2345.67",
            "balance_due_eur": "-12.34",
            "conguaglio": [
                {
                    "configuration": "AC001E01725",
                    "differences": [
                        {"figure": "shared_wh", "ours": "148372665", "gse": "148372000",
                         "difference": "-665", "flagged": False},
                        {"figure": "tip_eur", "ours": "15245.88", "gse": "14000.00",
                         "difference": "-1245.88", "flagged": True},
                    ],
                    "flagged": True,
                    "causes": ["hours missing in our data"],
                }
            ],
        },
    }  # fmt: skip
    year = dataclasses.replace(facts, period="2025", kind="year", gse=gse)
    text = "\n".join(pdf_pages(community_report_pdf(year, IT)))
    assert "saldo ancora dovuto dal GSE (al netto dei corrispettivi)\n-12,34 €" in text
    assert "Conguaglio GSE rispetto ai nostri dati" in text
    assert "energia condivisa\n148.372,7 kWh\n148.372,0 kWh\n-0,7 kWh" in text
    assert "TIP (da verificare)\n15.245,88 €\n14.000,00 €\n-1.245,88 €" in text
    assert "Cause probabili: hours missing in our data" in text


async def test_late_readings_of_a_final_run_are_announced(settled: Settled) -> None:
    await settled.finalise()
    assert (await settled.facts()).late_readings == 0
    late = [(P_ROSSI, START + timedelta(hours=h), 0, 800) for h in list(GAP)[:5]]
    await store_energy(settled.engine, settled.community, late)
    facts = await settled.facts()
    assert facts.late_readings == 5
    first = pdf_pages(community_report_pdf(facts, IT))[0].replace("\n", " ")
    assert "5 letture di questo periodo sono arrivate dopo che è stato reso definitivo" in first
