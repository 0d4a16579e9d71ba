"""File readers: community YAML, readings CSV, GME XML/XLSX and CSV prices."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.period import Period
from cer_backend.files import (
    load_community,
    load_prices,
    load_readings,
    parse_gme_xlsx,
    parse_gme_xml,
    parse_prices_csv,
    parse_readings_csv,
    read_community_text,
)

COMMUNITY = """\
community:
  name: CER Esempio
  region: Toscana
  cabina_primaria: AC001E01725
  constituted: 2024-06-01
  cu_afa_eur_mwh:
    "2024": 10.57
    "2025": 10.57
  statute:
    management_pct: 15
    management_from: tip
    valorisation_to: plant_owners
members:
  - id: comune
    name: Comune di Esempio
    type: municipality
    pods: [IT001E00000001, IT001E00000002]
  - id: rossi
    name: Mario Rossi
    type: person
    pods: [IT001E00000003]
plants:
  - id: scuola_media
    pod: IT001E00000002
    owner: comune
    power_kw: 80
    source: pv
    commissioned: 2025-02-15
"""


def problems(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_community_file(tmp_path: Path) -> None:
    path = tmp_path / "community.yaml"
    path.write_text(COMMUNITY, encoding="utf-8")
    community = load_community(path)
    assert community.market_zone == "CNOR"
    assert community.cu_afa_for_month("2025-01") == Decimal("10.57")
    assert isinstance(community.cu_afa_for_month("2025-01"), Decimal)


def test_community_yaml_error_names_the_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_community_text(COMMUNITY.replace("  region: Toscana", "  region: [Toscana"), "c.yaml")
    assert caught.value.problems[0].path.startswith("c.yaml:")


def test_community_problems_name_file_and_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_community_text(COMMUNITY.replace("power_kw: 80", "power_kw: 1200"), "c.yaml")
    assert problems(caught) == ["c.yaml: plants[0].power_kw: must be > 0 and ≤ 1000"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_community(tmp_path / "nope.yaml")
    assert "no such file" in problems(caught)[0]


READINGS = """\
pod,hour_start,injected_wh,withdrawn_wh
IT001E00000002,2025-06-01T12:00:00+02:00,41250,310
IT001E00000003,2025-06-01T12:00:00+02:00,0,1800
IT001E00000003,2025-06-01T13:00:00+02:00,0,900
IT001E00000003,2025-06-01T13:15:00+02:00,0,900
IT001E00000003,2025-06-01T13:30:00+02:00,0,900
IT001E00000003,2025-06-01T13:45:00+02:00,0,900
"""


def test_readings_csv(tmp_path: Path) -> None:
    community = read_community_text(COMMUNITY)
    path = tmp_path / "r.csv"
    path.write_text(READINGS, encoding="utf-8")
    energy = load_readings(path, community, Period.parse("2025-06-01"))
    assert energy.pods == ("IT001E00000001", "IT001E00000002", "IT001E00000003")
    assert energy.withdrawn[2, 13] == 3600
    assert energy.present[2, 13] and not energy.present[0].any()


def test_readings_period_inferred() -> None:
    energy = parse_readings_csv(READINGS)
    assert str(energy.period) == "2025-06-01..2025-06-01"
    assert energy.period.hours == 24


def test_readings_problems_name_lines() -> None:
    community = read_community_text(COMMUNITY)
    text = (
        READINGS
        + "IT001E00000099,2025-06-01T12:00:00+02:00,1,1\n"
        + "IT001E00000003,2025-06-01 14:00,1,1\n"
        + "IT001E00000003,2025-06-01T15:00:00+02:00,1.5,1\n"
        + "IT001E00000003,2025-06-01T16:00:00+02:00,1\n"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_readings_csv(text, community, Period.parse("2025-06"), "r.csv")
    assert [p.path for p in caught.value.problems] == ["r.csv:8", "r.csv:9", "r.csv:10", "r.csv:11"]
    assert "belongs to no member" in caught.value.problems[0].message


def test_readings_duplicate_and_negative() -> None:
    text = READINGS + "IT001E00000002,2025-06-01T12:00:00+02:00,1,1\n"
    text += "IT001E00000002,2025-06-01T18:00:00+02:00,-1,1\n"
    with pytest.raises(InvalidInput) as caught:
        parse_readings_csv(text, None, Period.parse("2025-06"), "r.csv")
    assert [p.path for p in caught.value.problems] == ["r.csv:9", "r.csv:8"]


def test_readings_header() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_readings_csv("pod,time,in,out\n", name="r.csv")
    assert caught.value.problems[0].path == "r.csv:1"


def gme_xml(day: str, hours: int, tag: str = "Ora", extra: str = "") -> bytes:
    items = "".join(
        f"<Prezzi><Data>{day}</Data><Mercato>MGP</Mercato><{tag}>{h}</{tag}>{extra}"
        f"<PUN>100,5</PUN><NORD>{90 + h},25</NORD><SICI>-1,000000</SICI></Prezzi>"
        for h in range(1, hours + 1)
    )
    return f'<?xml version="1.0"?><NewDataSet>{items}</NewDataSet>'.encode()


def test_gme_xml_hours_are_local() -> None:
    prices = parse_gme_xml(gme_xml("20250601", 24))
    first = dt.datetime.fromisoformat("2025-06-01T00:00:00+02:00")
    assert prices.eur_mwh("NORD", first) == Decimal("91.25")
    assert prices.eur_mwh("SICI", first) == Decimal(-1)
    assert prices.eur_mwh("PUN", first) == Decimal("100.5")
    assert len(prices.values["NORD"]) == 24


@pytest.mark.parametrize(("day", "hours"), [("20250330", 23), ("20251026", 25)])
def test_gme_xml_clock_change(day: str, hours: int) -> None:
    prices = parse_gme_xml(gme_xml(day, hours))
    period = Period.parse(f"{day[:4]}-{day[4:6]}-{day[6:]}")
    values, present = prices.series("NORD", period)
    assert present.all() and period.hours == hours
    assert values[-1] == (90 + hours) * 1_000_000 + 250_000


def test_gme_xml_wrong_hour_count() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_gme_xml(gme_xml("20250601", 25), "x.xml")
    assert "out of range" in caught.value.problems[0].message
    assert caught.value.problems[0].path.startswith("x.xml")


def test_gme_xml_fifteen_minutes() -> None:
    prices = parse_gme_xml(gme_xml("20251101", 96, tag="Periodo"))
    first = dt.datetime.fromisoformat("2025-11-01T00:00:00+01:00")
    # quarters 1..4 at 91.25, 92.25, 93.25, 94.25 → 92.75
    assert prices.eur_mwh("NORD", first) == Decimal("92.75")
    assert len(prices.values["NORD"]) == 24


def test_gme_xml_invalid() -> None:
    with pytest.raises(InvalidInput):
        parse_gme_xml(b"<not xml", "x.xml")
    with pytest.raises(InvalidInput):
        parse_gme_xml(b"<a><b/></a>", "x.xml")
    with pytest.raises(InvalidInput) as caught:
        parse_gme_xml(gme_xml("20250601", 1).replace(b"100,5", b"abc"), "x.xml")
    assert caught.value.problems[0].path == "x.xml: Prezzi[1].PUN"


def test_gme_xlsx() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Prezzi annuali"])
    sheet.append(["Data/Date\n(YYYYMMDD)", "Ora\n/Hour", "PUN", "NORD", "SICI"])
    for h in range(1, 24):
        sheet.append([20250330, h, 100.5, 90 + h, "12,5"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    prices = parse_gme_xlsx(buffer.getvalue())
    period = Period.parse("2025-03-30")
    values, present = prices.series("NORD", period)
    assert present.all() and values[0] == 91_000_000
    assert prices.eur_mwh("SICI", period.hour_start(3)) == Decimal("12.5")


def test_prices_csv() -> None:
    prices = parse_prices_csv("hour_start,zone,eur_mwh\n2025-06-01T12:00:00+02:00,CNOR,98.52\n")
    at = dt.datetime.fromisoformat("2025-06-01T12:00:00+02:00")
    assert prices.eur_mwh("CNOR", at) == Decimal("98.52")
    with pytest.raises(InvalidInput) as caught:
        parse_prices_csv(
            "hour_start,zone,eur_mwh\n2025-06-01T12:00:00+02:00,MARS,1\n"
            "2025-06-01T13:00:00,CNOR,1\n2025-06-01T14:00:00+02:00,CNOR,98,5\n",
            "p.csv",
        )
    assert [p.path for p in caught.value.problems] == ["p.csv:2", "p.csv:3", "p.csv:4"]


def test_prices_folder(tmp_path: Path) -> None:
    (tmp_path / "20250601MGPPrezzi.xml").write_bytes(gme_xml("20250601", 24))
    (tmp_path / "20250602MGPPrezzi.xml").write_bytes(gme_xml("20250602", 24))
    (tmp_path / "readme.txt").write_text("ignored")
    prices = load_prices(tmp_path)
    assert len(prices.values["NORD"]) == 48
    (tmp_path / "extra.csv").write_text(
        "hour_start,zone,eur_mwh\n2025-06-01T00:00:00+02:00,NORD,1\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as caught:
        load_prices(tmp_path)
    assert "different price" in caught.value.problems[0].message


def test_gme_xlsx_quarter_hours() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Data", "Periodo", "CNOR"])
    for q in range(1, 97):
        sheet.append(["20251101", q, 100 + (q - 1) % 4])
    buffer = io.BytesIO()
    workbook.save(buffer)
    prices = parse_gme_xlsx(buffer.getvalue())
    first = dt.datetime.fromisoformat("2025-11-01T00:00:00+01:00")
    assert prices.eur_mwh("CNOR", first) == Decimal("101.5")  # mean of 100, 101, 102, 103
    assert len(prices.values["CNOR"]) == 24
