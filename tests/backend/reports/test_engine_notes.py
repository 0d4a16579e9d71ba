"""The engine's notes in the reports: each has a stable code and is written in the report's
language from the catalogues (issue #13); the run's JSON keeps the English sentences."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

from cer_backend.domain import engine_notes
from cer_backend.domain.engine_notes import NOTES, note_text, parse_note
from cer_backend.i18n import language
from cer_backend.service.community_report import community_report_pdf
from cer_backend.service.report_notes import note_code, translate_note

from .conftest import Settled, pdf_pages

ENGINE = Path(engine_notes.__file__).parent
SOURCES = ("settlement.py", "distribution.py", "advance.py")


def _skeletons(node: ast.expr) -> list[str]:
    """Every text an expression can write, its computed parts as ``{}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [_skeletons(v) if isinstance(v, ast.Constant) else ["{}"] for v in node.values]
        return ["".join(p) for p in itertools.product(*parts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _skeletons(node.left) for b in _skeletons(node.right)]
    if isinstance(node, ast.IfExp):
        return _skeletons(node.body) + _skeletons(node.orelse)
    return ["{}"]


def _engine_sentences() -> set[str]:
    found = set()
    for name in SOURCES:
        tree = ast.parse((ENGINE / name).read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "append"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id in ("warnings", "errors")
            ):
                found.update(_skeletons(call.args[0]))
    return found


def test_every_note_the_engine_writes_has_a_code_and_no_code_is_stale() -> None:
    templates = {re.sub(r"\{\w+\}", "{}", kind.template) for kind in NOTES}
    written = _engine_sentences()
    assert len(written) >= 14
    assert written - templates == set(), "a note of the engine without a code"
    assert templates - written == set(), "a code whose note the engine no longer writes"
    assert len({kind.code for kind in NOTES}) == len(NOTES)


@pytest.mark.parametrize("kind", NOTES, ids=lambda kind: kind.code)
def test_each_note_is_recognised_with_its_parameters(kind: engine_notes.NoteKind) -> None:
    params = {name: f"v{n}" for n, name in enumerate(re.findall(r"\{(\w+)\}", kind.template))}
    parsed = parse_note(note_text(kind.code, **params))
    assert parsed is not None and parsed[0] == kind and parsed[1] == params


def test_notes_in_italian_with_italian_formats() -> None:
    it, en = language("it"), language("en")
    note = note_text("no_consumer", rest_eur="1234.50")
    assert translate_note(note, it) == (
        "nessun consumatore con cui ripartire 1.234,50\xa0€: vanno al fondo sociale"
    )
    assert (
        translate_note(note, en)
        == "no consumer to share €1,234.50 with: it goes to the social fund"
    )
    missing = note_text("readings_missing", pods=3, hours=1200)
    assert translate_note(missing, it).startswith("mancano letture di 3 POD in 1.200 ore")
    ranges = "2025-06-01T10:00+02:00…12:00+02:00 and 4 more ranges"
    price = note_text("no_price_injection", zone="CNOR", hours=30, ranges=ranges)
    assert translate_note(price, it) == (
        "manca il prezzo zonale CNOR per 30 ore con sola immissione: "
        "2025-06-01T10:00+02:00…12:00+02:00 e altri 4 intervalli (RID non conteggiato)"
    )
    plant = note_text("plant_starts_next_month", plant="scuola", day="2025-06-12")
    assert "il 12 giugno 2025" in translate_note(plant, it)
    cu = note_text("no_cu_afa", month="2025-06")
    assert "di giugno 2025 in community.cu_afa_eur_mwh" in translate_note(cu, it)
    assert note_code(cu) == "no_cu_afa"
    # a sentence of no known kind is shown as it is
    assert translate_note("something new", it) == "something new"
    assert note_code("something new") is None


async def test_the_report_shows_the_engine_notes_in_its_language(settled: Settled) -> None:
    facts = await settled.facts()
    warnings = list(facts.result["warnings"])
    assert warnings and all(note_code(w) for w in warnings), warnings
    assert any(w.startswith("readings missing for") for w in warnings)  # the JSON: English
    italian = "\n".join(pdf_pages(community_report_pdf(facts, language("it"))))
    flat = " ".join(italian.split())
    assert "Note del calcolo della ripartizione" in flat
    assert "mancano letture di 1 POD in" in flat
    assert "readings missing" not in flat and "(in English)" not in flat
    english = " ".join("\n".join(pdf_pages(community_report_pdf(facts, language("en")))).split())
    assert "readings missing for 1 PODs in" in english
