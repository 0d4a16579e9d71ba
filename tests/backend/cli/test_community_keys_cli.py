"""``check`` and ``settle`` read a community file with every optional key of FORMATS.md."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cer_backend.cli import main

from .test_settlement_cli import COMMUNITY, files, settle_args  # noqa: F401

WITH_KEYS = """\
community:
  name: CER Esempio
  region: Sicilia
  cabina_primaria: AC001E01725
  location: {lat: 37.50, lon: 15.07}
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
    pods:
      - IT001E00000001
      - {pod: IT001E00000002, cabina_primaria: AC001E01725, label: Scuola, role: building}
    tax_code: "00123456789"
    email: ufficio.tecnico@example.it
    public: true
  - id: rossi
    name: Mario Rossi
    type: person
    pods: [IT001E00000003]
    email: mario.rossi@example.it
  - id: parco
    name: Ente Parco
    type: environmental
    pods: [IT001E00000004]
    ateco: null
plants:
  - id: scuola_media
    pod: IT001E00000002
    owner: comune
    power_kw: 80
    source: pv
    commissioned: 2025-02-15
    built_for_cer: null
settings:
  f_exemption_persons_from: 2025-05-16
  finalise_min_coverage_pct: 99
  public_page: false
  language: it
  report_recipients: [ufficio.tecnico@example.it]
  alert_webhook_url: null
"""


def test_check_and_settle_accept_every_optional_key(
    files: dict[str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    files["community"].write_text(WITH_KEYS, encoding="utf-8")
    assert main(["check", "--community", str(files["community"]), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["errors"] == []
    assert main(settle_args(files, "--json")) == 0
    settled = json.loads(capsys.readouterr().out)
    assert settled["shared_wh"] == 12110  # the figures of test_settle_json: same readings
    assert settled["tip_eur"] == "1.45"


def test_an_unknown_settings_key_exits_2(
    files: dict[str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    files["community"].write_text(COMMUNITY + "settings:\n  colour: red\n", encoding="utf-8")
    assert main(["check", "--community", str(files["community"])]) == 2
    assert "settings.colour: unknown key" in capsys.readouterr().err


TWO_CABINE = COMMUNITY.replace(
    "    pods: [IT001E00000003]\n",
    "    pods: [{pod: IT001E00000003, cabina_primaria: AC001E01726}]\n",
)


def test_check_lists_the_configurations(
    files: dict[str, Path],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    files["community"].write_text(TWO_CABINE, encoding="utf-8")
    assert main(["check", "--community", str(files["community"]), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["configurations"] == [
        {
            "cabina_primaria": "AC001E01725",
            "pods": ["IT001E00000001", "IT001E00000002"],
            "plants": ["scuola_media"],
        },
        {"cabina_primaria": "AC001E01726", "pods": ["IT001E00000003"], "plants": []},
    ]
    assert [w["message"] for w in checked["warnings"]] == [
        "configuration AC001E01726 has no production point: it shares nothing (GSE-RULES §8)"
    ]
    assert main(["check", "--community", str(files["community"])]) == 0
    text = capsys.readouterr().out
    assert "configuration AC001E01725: 2 consumption points, 1 plants (scuola_media)" in text
    assert "configuration AC001E01726: 1 consumption points, 0 plants" in text


def test_settle_out_and_acconto_show_the_configurations(
    files: dict[str, Path],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files["community"].write_text(TWO_CABINE, encoding="utf-8")
    out = tmp_path / "out"
    assert main(settle_args(files, "--json", "--out", str(out))) == 0
    settled = json.loads(capsys.readouterr().out)
    # Rossi's 1.8 kWh are under the other cabina: only the Comune's 10.31 kWh are shared
    assert [c["shared_wh"] for c in settled["configurations"]] == [10310, 0]
    assert settled["shared_wh"] == 10310
    with (out / "configurations.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["cabina_primaria"], r["shared_wh"], r["plants"]) for r in rows] == [
        ("AC001E01725", "10310", "scuola_media"),
        ("AC001E01726", "0", ""),
    ]
    assert main(["acconto", "--community", str(files["community"]), "--month", "2025-06"]) == 0
    text = capsys.readouterr().out
    # Sud, 80 kW: 0.08 × 1100 × 0.6 × 100 / 12 = 440.00 €; 0.08 × 1100 × 0.6 × 10.57 / 12
    assert "  configuration AC001E01725:\n    scuola_media" in text
    assert "configuration total    TIP     440.00 €  valorisation      46.51 €" in text
    assert "note: each configuration's amount is the rounding" in text
