"""Report URLs: ?lang=, the accountant's export, the council report and the deliveries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pypdf
import pytest

from .conftest import Api
from .test_settlement import store_june_prices, upload_june

pytestmark = pytest.mark.database


def first_page(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\xa0", " ")


async def test_report_urls_speak_italian_unless_asked(api: Api) -> None:
    await upload_june(api)
    await store_june_prices(api)
    _, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    base = f"/settlements/{run['id']}"
    status, pdf, _ = await api.call("GET", f"{base}/report.pdf", "viewer_a")
    assert status == 200 and "Rendiconto energetico della comunità" in first_page(pdf)
    assert "CER Test A" in first_page(pdf)
    status, pdf, _ = await api.call("GET", f"{base}/report.pdf?lang=en", "viewer_a")
    assert status == 200 and "Community energy report" in first_page(pdf)
    status, problem, _ = await api.call("GET", f"{base}/report.pdf?lang=fr", "viewer_a")
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["lang"]
    status, pdf, _ = await api.call(
        "GET", f"{base}/members/famiglia/statement.pdf?lang=en", "viewer_a"
    )
    assert status == 200 and "Statement of Famiglia Rossi" in first_page(pdf)
    status, body, _ = await api.call("GET", f"{base}/members/famiglia/statement.csv", "viewer_a")
    assert status == 200 and body.decode().startswith("comunità;periodo")
    assert (await api.call("GET", f"{base}/members/nobody/statement.pdf", "admin_a"))[0] == 404
    status, _, _ = await api.call("GET", f"{base}/council.pdf", "viewer_a")
    assert status == 422  # a month run


async def test_the_accountant_export_over_http(api: Api) -> None:
    await upload_june(api)
    await store_june_prices(api)
    _, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    result = run["result"]
    base = f"/settlements/{run['id']}"
    status, body, response = await api.call("GET", f"{base}/export.csv?lang=en", "admin_a")
    assert status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(body.decode())))
    totals = {r[0]: Decimal(r[4]) for r in rows[1:] if r[0] in ("members' total", "grand total")}
    assert totals["members' total"] == sum(Decimal(m["amount_eur"]) for m in result["members"])
    assert totals["grand total"] == Decimal(result["tip_eur"]) + Decimal(result["valorisation_eur"])
    status, body, _ = await api.call("GET", f"{base}/export.xlsx", "admin_a")
    assert status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet.cell(1, 2).value == "codice fiscale"
    assert (await api.call("GET", f"{base}/export.csv", "viewer_a"))[0] == 403
    status, body, _ = await api.call("GET", f"{base}/export.csv", "root")
    assert status == 200 and body.decode().startswith("riga;codice fiscale")
    status, deliveries, _ = await api.call(
        "GET", f"/communities/{api.community_a}/deliveries", "admin_a"
    )
    assert status == 200 and deliveries == []
    assert (await api.call("GET", f"/communities/{api.community_b}/deliveries", "admin_a"))[
        0
    ] == 403


async def test_the_openapi_document_names_the_report_language(api: Api) -> None:
    status, document, _ = await api.call("GET", "/openapi.json")
    assert status == 200
    for path in (
        "/api/v1/settlements/{run}/report.pdf",
        "/api/v1/settlements/{run}/members/{member}/statement.pdf",
        "/api/v1/settlements/{run}/export.xlsx",
        "/api/v1/settlements/{run}/council.pdf",
    ):
        parameters = document["paths"][path]["get"]["parameters"]
        lang = next(p for p in parameters if p["name"] == "lang")
        assert lang["schema"]["enum"] == ["en", "it"], path
    assert "/api/v1/communities/{community}/deliveries" in document["paths"]
