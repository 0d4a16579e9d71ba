"""Languages of the people-facing outputs: gettext catalogues and Babel formats.

Every report, statement, export and e-mail is written through a :class:`Language`: its
``gettext`` translates the English message ids with the catalogues of
``cer_backend/locale/<lang>/LC_MESSAGES/cer_backend.po`` and its formatters give the
locale's numbers, currency and dates (Italian: ``1.234,56 €``, ``148.372,7 kWh``,
``5 giugno 2025``). The ``.po`` sources are the catalogues; they are compiled to the binary
``.mo`` form with Babel when first used (no build step, so an editable install works).

Italian is the default; English on request (``--lang``, ``?lang=``, or the community
setting ``settings.language``).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Final

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

DOMAIN: Final = "cer_backend"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
#: the languages of the outputs, first the default; value: the Babel locale of the formats
LANGUAGES: Final[Mapping[str, str]] = {"it": "it_IT", "en": "en_IE"}
DEFAULT_LANGUAGE: Final = "it"
#: decimals of a coverage percentage (rounded down)
COVERAGE_DIGITS: Final = 2


class LanguageError(ValueError):
    """A language that has no catalogue."""


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it here (data tables)."""
    return message


@cache
def _translations(code: str, domain: str = DOMAIN) -> gettext.GNUTranslations:
    """The catalogue of a language, compiled from its ``.po`` source in memory."""
    source = LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=code, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def catalogue(code: str, domain: str) -> gettext.GNUTranslations:
    """The compiled catalogue ``domain`` of a language (``web``: the pages' texts)."""
    if code not in LANGUAGES:
        raise LanguageError(f"unknown language {code!r}: use one of {', '.join(sorted(LANGUAGES))}")
    return _translations(code, domain)


class Language:
    """Texts and formats of one language."""

    def __init__(self, code: str) -> None:
        if code not in LANGUAGES:
            raise LanguageError(
                f"unknown language {code!r}: use one of {', '.join(sorted(LANGUAGES))}"
            )
        self.code = code
        self.locale = Locale.parse(LANGUAGES[code])
        self._catalogue = _translations(code)

    def gettext(self, message: str) -> str:
        """The translation of an English message id."""
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The translation for a count."""
        return self._catalogue.ngettext(singular, plural, count)

    # ---- numbers -------------------------------------------------------------------
    def number(self, value: Decimal | Fraction | int | str, digits: int = 0) -> str:
        """A number with the locale's separators and ``digits`` decimals (half-up)."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(_decimal(value, digits), format=pattern, locale=self.locale)

    def plain_number(self, value: Decimal | Fraction | int | str, digits: int = 2) -> str:
        """A number without grouping (spreadsheet-friendly): ``1234,56`` in Italian."""
        pattern = "0" + ("." + "0" * digits if digits else "")
        return format_decimal(_decimal(value, digits), format=pattern, locale=self.locale)

    def eur(self, value: Decimal | Fraction | int | str) -> str:
        """An amount in euros: ``1.234,56 €`` (Italian), ``€1,234.56`` (English)."""
        return format_currency(_decimal(value, 2), "EUR", locale=self.locale)

    def kwh(self, wh: int | str, digits: int = 1) -> str:
        """Energy given in Wh, shown in kWh: ``148.372,7 kWh``."""
        return f"{self.number(Fraction(int(wh), 1000), digits)}\xa0kWh"

    def mwh(self, wh: int | str, digits: int = 1) -> str:
        """Energy given in Wh, shown in MWh."""
        return f"{self.number(Fraction(int(wh), 1_000_000), digits)}\xa0MWh"

    def percent(self, value: Fraction | Decimal | float, digits: int = 1) -> str:
        """A ratio (0–1) as a percentage: ``99,2 %``."""
        hundred = Fraction(value) * 100 if not isinstance(value, float) else value * 100
        return f"{self.number(Fraction(hundred), digits)}\xa0%"

    def coverage(self, value: Fraction) -> str:
        """A coverage as a percentage rounded down, so that anything short of all of it never
        reads 100 %: ``99,97 %`` for 72 POD-hours missing of 280.320."""
        scaled = value * 100 * 10**COVERAGE_DIGITS
        floored = Fraction(scaled.numerator // scaled.denominator, 10**COVERAGE_DIGITS)
        return f"{self.number(floored, COVERAGE_DIGITS)}\xa0%"

    # ---- dates ---------------------------------------------------------------------
    def date(self, day: dt.date | str) -> str:
        """A date in words: ``5 giugno 2025``."""
        value = dt.date.fromisoformat(day) if isinstance(day, str) else day
        return format_date(value, format="long", locale=self.locale)

    def month(self, month: str) -> str:
        """A month ``YYYY-MM`` in words: ``giugno 2025``."""
        value = dt.date(int(month[:4]), int(month[5:7]), 1)
        return format_date(value, format="LLLL yyyy", locale=self.locale)

    def month_short(self, month: str) -> str:
        """A month's short name (charts): ``giu``."""
        value = dt.date(int(month[:4]), int(month[5:7]), 1)
        return format_date(value, format="LLL", locale=self.locale)

    def period(self, period: str) -> str:
        """A settlement period (``2025``, ``2025-06``, ``2025-06-05``) in words."""
        if len(period) == 4:
            return self.gettext("year {year}").format(year=period)
        if len(period) == 7:
            return self.month(period)
        return self.date(period)


def _decimal(value: Decimal | Fraction | int | str, digits: int) -> Decimal:
    """An exact value rounded half-up to ``digits`` decimals (money only where reported)."""
    if isinstance(value, Fraction):
        scaled = value * 10**digits
        whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
        if scaled < 0:
            whole = -((-scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator))
        return Decimal(whole).scaleb(-digits)
    quantum = Decimal(1).scaleb(-digits)
    return Decimal(value).quantize(quantum, rounding="ROUND_HALF_UP")


def language(code: str | None = None) -> Language:
    """The language of a code (default Italian); LanguageError for one without catalogue."""
    return _language(code or DEFAULT_LANGUAGE)


@cache
def _language(code: str) -> Language:
    return Language(code)


def choose_language(requested: str | None, document: Mapping[str, Any] | None) -> Language:
    """The language asked for, else the community's ``settings.language``, else Italian."""
    if requested:
        return language(requested)
    settings = (document or {}).get("settings") or {}
    configured = settings.get("language") if isinstance(settings, Mapping) else None
    return language(str(configured) if configured else None)
