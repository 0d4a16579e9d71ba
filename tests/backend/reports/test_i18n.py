"""Languages: Babel formats, and every message of the source translated in both catalogues."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from cer_backend import i18n
from cer_backend.i18n import LANGUAGES, LanguageError, choose_language, language
from cer_backend.locale.catalogues import read_catalogue, source_messages, untranslated


def test_italian_formats() -> None:
    it = language("it")
    assert it.eur(Decimal("1234.56")) == "1.234,56\xa0€"
    assert it.eur(Fraction(123456789, 1000)) == "123.456,79\xa0€"  # half-up to the cent
    assert it.eur(Fraction(-5, 1000)) == "-0,01\xa0€"
    assert it.kwh(148_372_665) == "148.372,7\xa0kWh"
    assert it.date(dt.date(2025, 6, 5)) == "5 giugno 2025"
    assert it.month("2025-06") == "giugno 2025"
    assert it.period("2025") == "anno 2025"
    assert it.percent(Fraction(992, 1000)) == "99,2\xa0%"
    assert it.coverage(Fraction(280_320 - 72, 280_320)) == "99,97\xa0%"  # never 100 % if short
    assert it.coverage(Fraction(1)) == "100,00\xa0%"
    assert it.plain_number(Decimal("1234.5")) == "1234,50"


def test_english_formats() -> None:
    en = language("en")
    assert en.eur(Decimal("1234.56")) == "€1,234.56"
    assert en.kwh(148_372_665) == "148,372.7\xa0kWh"
    assert en.date("2025-06-05") == "5 June 2025"
    assert en.period("2025-06") == "June 2025"


def test_the_language_is_asked_then_the_community_s_then_italian() -> None:
    document = {"settings": {"language": "en"}}
    assert choose_language(None, document).code == "en"
    assert choose_language("it", document).code == "it"
    assert choose_language(None, {}).code == "it"
    with pytest.raises(LanguageError, match="unknown language 'fr'"):
        choose_language("fr", document)


def test_every_message_is_translated_in_both_catalogues() -> None:
    messages = source_messages()
    assert len(messages) > 100  # the extraction sees the reports' texts
    assert "Community energy report" in messages and "DRAFT" in messages
    for code in LANGUAGES:
        assert untranslated(code, messages) == [], code


def test_the_catalogues_hold_no_message_the_source_has_lost() -> None:
    messages = set(source_messages())
    for code in LANGUAGES:
        ids = {m.id for m in read_catalogue(code) if m.id}
        assert ids - messages == set(), code


def test_the_italian_catalogue_is_italian() -> None:
    it = language("it")
    assert it.gettext("Community energy report") == "Rendiconto energetico della comunità"
    assert it.gettext("DRAFT") == "BOZZA"
    same = [m for m in source_messages() if it.gettext(m) == m]
    # only codes and units read the same in both languages
    assert set(same) <= {"POD", "TIP", "GSE", "kW", "euro", "Home Assistant"}


def test_the_package_data_ships_every_catalogue() -> None:
    """A wheel carries what ``tool.setuptools.package-data`` names: every ``.po`` must match."""
    root = Path(__file__).resolve().parents[3]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["cer_backend"]
    package = Path(i18n.__file__).parent
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    catalogues = set(package.glob("locale/**/*.po"))
    assert catalogues and catalogues <= shipped
    assert set(LANGUAGES) == {p.parent.parent.name for p in catalogues}
