"""``cer-backend settle | check | acconto | project`` from files, in-process and as a process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cer_backend.cli import main
from tests.support.cli import run_cli

COMMUNITY = """\
community:
  name: CER Esempio
  region: Sicilia
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

READINGS = """\
pod,hour_start,injected_wh,withdrawn_wh
IT001E00000002,2025-06-01T12:00:00+02:00,41250,310
IT001E00000003,2025-06-01T12:00:00+02:00,0,1800
IT001E00000001,2025-06-01T12:00:00+02:00,0,10000
"""

PRICES = (
    "hour_start,zone,eur_mwh\n2025-06-01T12:00:00+02:00,SICI,98.52\n"
    "2025-06-01T13:00:00+02:00,SICI,100\n"
)

STUDY = """\
study:
  years: 2
  first_year: 2025
  degradation_pct: 0.4
  discount_rate_pct: 4.45
  zonal_price_eur_mwh: 130
  energy_price_eur_kwh: 0.35
  cu_afa_eur_mwh: 10.57
  region: Sicilia
plants:
  - id: santa_chiara
    power_kw: 20
    produced_kwh: 33780
    self_consumed_kwh: 16890
    shared_fraction: 0.95
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "community": tmp_path / "community.yaml",
        "readings": tmp_path / "readings.csv",
        "prices": tmp_path / "prices.csv",
        "study": tmp_path / "study.yaml",
    }
    paths["community"].write_text(COMMUNITY, encoding="utf-8")
    paths["readings"].write_text(READINGS, encoding="utf-8")
    paths["prices"].write_text(PRICES, encoding="utf-8")
    paths["study"].write_text(STUDY, encoding="utf-8")
    return paths


def settle_args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "settle",
        "--community",
        str(files["community"]),
        "--readings",
        str(files["readings"]),
        "--prices",
        str(files["prices"]),
        "--period",
        "2025-06",
        *extra,
    ]


def test_settle_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(settle_args(files, "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "2025-06"
    assert data["hours"] == 720
    assert data["injected_wh"] == 41250
    assert data["withdrawn_wh"] == 12110
    assert data["shared_wh"] == 12110
    assert data["incentivised_wh"] == 12110
    # Sud, 80 kW, Pz 98.52: min(120, 80 + 81.48) = 120 €/MWh × 12.11 kWh = 1.4532 €
    assert data["tip_eur"] == "1.45"
    assert data["valorisation_eur"] == "0.13"  # 12.11 kWh × 10.57 €/MWh = 0.128
    assert data["rid_eur"] == "4.06"  # 41.25 kWh × 98.52 €/MWh = 4.0640
    assert data["gse_fees_eur"] == "6.25"  # (15 + 60) € / 12
    assert data["surplus_earmarked_eur"] == "0.00"
    assert data["plants"][0] == {
        **data["plants"][0],
        "id": "scuola_media",
        "allocated_wh": 12110,
        "incentivised_wh": 12110,
        "tip_eur": "1.45",
    }
    members = {m["id"]: m for m in data["members"]}
    assert members["comune"]["shared_wh"] == 10310
    assert members["rossi"]["shared_wh"] == 1800
    total = sum(int(m["amount_eur"].replace(".", "")) for m in data["members"])
    assert total + int(data["management_eur"].replace(".", "")) == 158
    assert data["errors"] == []
    assert data["warnings"]  # the hours without readings


def test_settle_summary_and_out(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(settle_args(files, "--out", str(out))) == 0
    text = capsys.readouterr().out
    assert "CER Esempio: settlement of 2025-06 (720 hours)" in text
    assert "TIP 1.45 €" in text
    with (out / "hourly.csv").open(encoding="utf-8") as handle:
        hourly = list(csv.DictReader(handle))
    assert len(hourly) == 720
    noon = next(r for r in hourly if r["hour_start"] == "2025-06-01T12:00:00+02:00")
    assert noon["shared_wh"] == "12110" and noon["zonal_price_eur_mwh"] == "98.52"
    assert noon["complete"] == "true"
    one = next(r for r in hourly if r["hour_start"] == "2025-06-01T13:00:00+02:00")
    assert one["zonal_price_eur_mwh"] == "100" and one["complete"] == "false"
    with (out / "members.csv").open(encoding="utf-8") as handle:
        assert {r["id"] for r in csv.DictReader(handle)} == {"comune", "rossi"}
    assert (out / "plants.csv").exists() and (out / "months.csv").exists()
    with (out / "plants.csv").open(encoding="utf-8") as handle:
        assert [r["id"] for r in csv.DictReader(handle)] == ["scuola_media"]
    with (out / "months.csv").open(encoding="utf-8") as handle:
        assert [r["month"] for r in csv.DictReader(handle)] == ["2025-06"]


def test_settle_missing_price_exits_1(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["prices"].write_text("hour_start,zone,eur_mwh\n", encoding="utf-8")
    assert main(settle_args(files, "--json")) == 1
    data = json.loads(capsys.readouterr().out)
    assert "2025-06-01T12:00+02:00" in data["errors"][0]
    assert data["tip_eur"] == "0.00"


def test_settle_bad_readings_exit_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["readings"].write_text(
        READINGS + "IT001E00000099,2025-06-01T12:00:00+02:00,1,1\nIT001E00000003,bad,1,1\n",
        encoding="utf-8",
    )
    assert main(settle_args(files)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"cer-backend: error: {files['readings']}:5: POD IT001E00000099 belongs to no member "
        "and no plant of the community",
        f"cer-backend: error: {files['readings']}:6: hour_start 'bad' is not an ISO 8601 time "
        "with offset",
    ]


def test_settle_bad_period(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    args = settle_args(files)
    args[args.index("2025-06")] = "2025-13"
    assert main(args) == 2
    assert "period: '2025-13' is not a valid date" in capsys.readouterr().err


def test_check(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--community", str(files["community"])]) == 0
    assert "0 errors" in capsys.readouterr().out
    broken = COMMUNITY.replace("commissioned: 2025-02-15", "commissioned: 2019-02-15")
    files["community"].write_text(broken, encoding="utf-8")
    assert main(["check", "--community", str(files["community"]), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [e["path"] for e in data["errors"]] == ["plants"]  # 100 % pre-existing power


def test_check_invalid_file_exit_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["community"].write_text(
        COMMUNITY.replace("power_kw: 80", "power_kw: 0").replace("type: person", "type: robot"),
        encoding="utf-8",
    )
    assert main(["check", "--community", str(files["community"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert any(line.endswith("plants[0].power_kw: must be > 0 and ≤ 1000") for line in err)
    assert any("members[1].type" in line for line in err)


def test_acconto(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["acconto", "--community", str(files["community"]), "--month", "2025-06", "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    # 0.08 MW × 1,100 h × 0.60 × 100 €/MWh / 12 = 440.00; × 10.57 €/MWh / 12 = 46.508
    assert data["month"] == "2025-06"
    assert data["tip_eur"] == "440.00"
    assert data["valorisation_eur"] == "46.51"
    assert data["plants"][0]["id"] == "scuola_media"
    assert main(["acconto", "--community", str(files["community"]), "--month", "2025"]) == 2


def test_project(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["project", "--study", str(files["study"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [y["year"] for y in data["years"]] == [2025, 2026]
    assert data["years"][0]["tip_eur"] == "1925.46"
    assert main(["project", "--study", str(files["study"]), "--years", "5"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + 5 + 1


def test_exit_codes_as_a_process(files: dict[str, Path], tmp_path: Path) -> None:
    ok = run_cli(*settle_args(files, "--json"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tip_eur"] == "1.45"

    missing = run_cli(*settle_args({**files, "readings": tmp_path / "nope.csv"}))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"cer-backend: error: {tmp_path / 'nope.csv'}: no such file"

    files["community"].write_text(
        COMMUNITY.replace("region: Sicilia", "region: ["), encoding="utf-8"
    )
    broken = run_cli("check", "--community", str(files["community"]))
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr and "not valid YAML" in broken.stderr

    # a plant before the constitution is only a warning now (GSE-RULES §2) ...
    files["community"].write_text(
        COMMUNITY.replace("commissioned: 2025-02-15", "commissioned: 2024-01-15"), encoding="utf-8"
    )
    warned = run_cli("check", "--community", str(files["community"]))
    assert warned.returncode == 0
    assert "warning: plants[0].commissioned: in service before the CER" in warned.stdout
    # ... and a member who cannot be a member is an error (GSE-RULES §8)
    files["community"].write_text(
        COMMUNITY.replace("type: person", "type: large_enterprise"), encoding="utf-8"
    )
    rule = run_cli("check", "--community", str(files["community"]))
    assert rule.returncode == 1
    assert "error: members[1].type: large_enterprise cannot be a member" in rule.stdout


def test_unexpected_error_is_one_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cer_backend.commands import settlement as command  # noqa: PLC0415

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "settle", broken)
    assert main(settle_args(files)) == 70
    err = capsys.readouterr().err
    assert err.strip() == (
        "cer-backend: internal error: RuntimeError: boom (run with -v for the traceback)"
    )
    with pytest.raises(RuntimeError):
        main(["-v", *settle_args(files)])


def test_quarter_hour_prices_mean_or_refused(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files["prices"].write_text(
        "hour_start,zone,eur_mwh\n"
        + "".join(
            f"2025-06-01T12:{m:02d}:00+02:00,SICI,{p}\n"
            for m, p in ((0, 100), (15, 200), (30, 300), (45, 400))
        ),
        encoding="utf-8",
    )
    assert main(settle_args(files, "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    # mean 250 €/MWh → TIP 80 + max(0, 180 − 250) = 80 €/MWh × 12.11 kWh = 0.9688
    assert data["tip_eur"] == "0.97"
    assert main(settle_args(files, "--quarter-hours", "reject")) == 2
    assert "quarter-hour prices are refused" in capsys.readouterr().err
