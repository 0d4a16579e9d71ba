"""Price files: GME daily XML (hourly or 15-minute), GME annual XLSX, plain CSV.

GME daily XML (``YYYYMMDDMGPPrezzi.xml``): repeated ``<Prezzi>`` elements with
``<Data>YYYYMMDD</Data>``, ``<Ora>1..24</Ora>`` (23/25 on clock-change days), ``<PUN>`` and one
element per zone, values with a comma decimal separator. ``Ora`` k is the k-th local hour of
the day. The 15-minute variant (``MGP_Prezzi15``, from 1 October 2025) is recognised by a
``<Periodo>`` element (1..96, 92/100 on clock-change days), by ``<Ora>`` with ``<Quarto>``
(1..4), or by ``Ora`` values above 25; its quarter-hours become hourly means in
:class:`HourlyPrices`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..domain.errors import InvalidInput, Problem
from ..domain.period import DEFAULT_TIMEZONE, zone
from ..domain.prices import HourlyPrices, PriceRow, QuarterHourRule
from ..domain.rules import MARKET_ZONES

PRICE_ZONES = (*MARKET_ZONES, "PUN")
PRICES_CSV_COLUMNS = ("hour_start", "zone", "eur_mwh")
PRICE_SUFFIXES = (".xml", ".xlsx", ".csv")
_QUARTER = dt.timedelta(minutes=15)


def _number(text: str) -> Decimal:
    """A GME number: comma decimals (``112,450000``) or point decimals."""
    text = text.strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return Decimal(text)


def _start(day: dt.date, index: int, quarter: bool, timezone: str) -> dt.datetime:
    """Start of the ``index``-th (1-based) hour or quarter of local ``day``, in UTC."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone(timezone)).astimezone(dt.UTC)
    step = _QUARTER if quarter else dt.timedelta(hours=1)
    return midnight + step * (index - 1)


def _slots_in_day(day: dt.date, quarter: bool, timezone: str) -> int:
    tz = zone(timezone)
    a = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    b = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    return int((b - a) / (_QUARTER if quarter else dt.timedelta(hours=1)))


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _build(
    rows: list[PriceRow], labels: list[str], problems: list[Problem], quarter_hours: QuarterHourRule
) -> HourlyPrices:
    if problems:
        raise InvalidInput(problems)
    return HourlyPrices.from_rows(rows, quarter_hours=quarter_hours, labels=labels)


def parse_gme_xml(
    data: bytes,
    name: str = "prices.xml",
    *,
    timezone: str = DEFAULT_TIMEZONE,
    quarter_hours: QuarterHourRule = "mean",
) -> HourlyPrices:
    """Parse a GME daily price XML (hourly or 15-minute)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        line = err.position[0] if err.position else 0
        raise InvalidInput.single(f"{name}:{line}", f"not valid XML: {err}") from err
    problems: list[Problem] = []
    rows: list[PriceRow] = []
    labels: list[str] = []
    entries = [el for el in root.iter() if _local(el.tag) == "Prezzi"]
    if not entries:
        raise InvalidInput.single(name, "no <Prezzi> elements: not a GME MGP price file")
    parsed: list[tuple[int, dt.date | None, int | None, int | None, dict[str, str]]] = []
    any_quarter = False
    for n, entry in enumerate(entries, start=1):
        fields = {_local(child.tag): (child.text or "").strip() for child in entry}
        day = _day(fields.get("Data", ""))
        slot: int | None = None
        quarter: int | None = None
        try:
            if "Periodo" in fields:
                slot, any_quarter = int(fields["Periodo"]), True
            elif "Ora" in fields:
                slot = int(fields["Ora"])
                if "Quarto" in fields:
                    quarter, any_quarter = int(fields["Quarto"]), True
                elif slot > 25:
                    any_quarter = True
        except ValueError:
            slot = None
        parsed.append((n, day, slot, quarter, fields))
    for n, day, raw_slot, quarter, fields in parsed:
        slot = raw_slot
        where = f"{name}: Prezzi[{n}]"
        if day is None:
            problems.append(Problem(where, f"<Data> {fields.get('Data')!r} is not YYYYMMDD"))
            continue
        if slot is None:
            problems.append(Problem(where, "<Ora>/<Periodo> missing or not a number"))
            continue
        if quarter is not None:
            if not 1 <= quarter <= 4:
                problems.append(Problem(where, f"<Quarto> {quarter} is not 1..4"))
                continue
            slot = (slot - 1) * 4 + quarter
        limit = _slots_in_day(day, any_quarter, timezone)
        if not 1 <= slot <= limit:
            problems.append(
                Problem(where, f"period {slot} out of range for {day.isoformat()} (1..{limit})")
            )
            continue
        start = _start(day, slot, any_quarter, timezone)
        for key, text in fields.items():
            if key not in PRICE_ZONES or not text:
                continue
            try:
                rows.append((key, start, _number(text)))
                labels.append(f"{where}.{key}")
            except InvalidOperation:
                problems.append(Problem(f"{where}.{key}", f"{text!r} is not a price"))
    return _build(rows, labels, problems, quarter_hours)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_gme_xlsx(
    data: bytes,
    name: str = "prices.xlsx",
    *,
    timezone: str = DEFAULT_TIMEZONE,
    quarter_hours: QuarterHourRule = "mean",
) -> HourlyPrices:
    """Parse a GME annual price workbook: one row per date and hour, one column per zone.

    The header row is the first with a date column (``Data``/``Date``) and an hour column
    (``Ora``/``Hour``, or ``Periodo`` for quarter-hours); zone columns are named ``NORD``,
    ``CNOR`` … (the first word of the header, case-insensitive).
    """
    import openpyxl  # noqa: PLC0415 - heavy import, only for XLSX

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for a bad file
        raise InvalidInput.single(name, f"not a readable XLSX workbook: {err}") from err
    problems: list[Problem] = []
    rows: list[PriceRow] = []
    labels: list[str] = []
    found = False
    for sheet in workbook.worksheets:
        header: dict[str, int] | None = None
        date_col = slot_col = -1
        quarter = False
        for r, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if header is None:
                names = [
                    str(v).strip().split()[0].split("/")[0].upper() if v else "" for v in values
                ]
                dates = [i for i, v in enumerate(names) if v in ("DATA", "DATE")]
                slots = [
                    i for i, v in enumerate(names) if v in ("ORA", "HOUR", "PERIODO", "PERIOD")
                ]
                if dates and slots:
                    header = {v: i for i, v in enumerate(names) if v in PRICE_ZONES}
                    date_col, slot_col = dates[0], slots[0]
                    quarter = names[slot_col] in ("PERIODO", "PERIOD")
                    found = True
                continue
            if all(v is None for v in values):
                continue
            where = f"{name}: {sheet.title}!{r}"
            day = _day(values[date_col]) if date_col < len(values) else None
            try:
                slot = int(str(values[slot_col]).split(".")[0])
            except (ValueError, IndexError):
                problems.append(Problem(where, "hour is not a number"))
                continue
            if day is None:
                problems.append(Problem(where, f"date {values[date_col]!r} is not YYYYMMDD"))
                continue
            is_quarter = quarter or slot > 25
            limit = _slots_in_day(day, is_quarter, timezone)
            if not 1 <= slot <= limit:
                problems.append(Problem(where, f"hour {slot} out of range for {day} (1..{limit})"))
                continue
            start = _start(day, slot, is_quarter, timezone)
            for zone_name, col in header.items():
                value = values[col] if col < len(values) else None
                if value is None or value == "":
                    continue
                try:
                    price = _number(str(value)) if isinstance(value, str) else Decimal(str(value))
                except InvalidOperation:
                    problems.append(Problem(f"{where}.{zone_name}", f"{value!r} is not a price"))
                    continue
                rows.append((zone_name, start, price))
                labels.append(f"{where}.{zone_name}")
        if len(problems) > 50:
            break
    if not found:
        raise InvalidInput.single(name, "no sheet with a date and an hour column")
    return _build(rows, labels, problems[:50], quarter_hours)


def parse_prices_csv(
    text: str, name: str = "prices.csv", *, quarter_hours: QuarterHourRule = "mean"
) -> HourlyPrices:
    """Parse a CSV ``hour_start,zone,eur_mwh`` (decimal point)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise InvalidInput.single(f"{name}:1", "empty file: a header line is required")
    columns = [c.strip() for c in header]
    if sorted(columns) != sorted(PRICES_CSV_COLUMNS):
        raise InvalidInput.single(
            f"{name}:1", f"header must be {','.join(PRICES_CSV_COLUMNS)} (got {','.join(columns)})"
        )
    pos = [columns.index(c) for c in PRICES_CSV_COLUMNS]
    problems: list[Problem] = []
    rows: list[PriceRow] = []
    labels: list[str] = []
    for record in reader:
        line = f"{name}:{reader.line_num}"
        if not record or all(not c.strip() for c in record):
            continue
        if len(record) != len(columns):
            problems.append(Problem(line, f"expected {len(columns)} fields, got {len(record)}"))
            continue
        stamp, zone_name, value = (record[i].strip() for i in pos)
        try:
            moment = dt.datetime.fromisoformat(stamp)
        except ValueError:
            moment = None
        if moment is None or moment.utcoffset() is None:
            problems.append(
                Problem(line, f"hour_start {stamp!r} is not an ISO 8601 time with offset")
            )
            continue
        if zone_name not in PRICE_ZONES:
            problems.append(Problem(line, f"unknown zone {zone_name!r} ({', '.join(PRICE_ZONES)})"))
            continue
        try:
            price = Decimal(value)
        except InvalidOperation:
            problems.append(Problem(line, f"eur_mwh {value!r} is not a number (decimal point)"))
            continue
        rows.append((zone_name, moment, price))
        labels.append(line)
        if len(problems) > 50:
            break
    return _build(rows, labels, problems, quarter_hours)


def parse_price_file(
    data: bytes,
    name: str,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    quarter_hours: QuarterHourRule = "mean",
) -> HourlyPrices:
    """Parse a price file by its suffix (``.xml``, ``.xlsx``, ``.csv``) or its content."""
    suffix = Path(name).suffix.lower()
    head = data[:64].lstrip()
    if suffix == ".xlsx" or data[:2] == b"PK":
        return parse_gme_xlsx(data, name, timezone=timezone, quarter_hours=quarter_hours)
    if suffix == ".xml" or head.startswith(b"<"):
        return parse_gme_xml(data, name, timezone=timezone, quarter_hours=quarter_hours)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput.single(name, "not UTF-8 text") from err
    return parse_prices_csv(text, name, quarter_hours=quarter_hours)


def _merge_all(
    parts: Iterable[tuple[str, HourlyPrices]], quarter_hours: QuarterHourRule
) -> HourlyPrices:
    values: dict[str, dict[int, int]] = {}
    seen: dict[tuple[str, int], str] = {}
    problems: list[Problem] = []
    for name, prices in parts:
        for zone_name, series in prices.values.items():
            target = values.setdefault(zone_name, {})
            for hour, micro in series.items():
                other = seen.get((zone_name, hour))
                if other is not None and target[hour] != micro:
                    moment = dt.datetime.fromtimestamp(hour * 3600, dt.UTC).isoformat()
                    problems.append(
                        Problem(name, f"{zone_name} {moment}: a different price is in {other}")
                    )
                    continue
                seen[(zone_name, hour)] = name
                target[hour] = micro
    if problems:
        raise InvalidInput(problems[:50])
    return HourlyPrices(values, quarter_hours)


def load_prices(
    path: str | Path,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    quarter_hours: QuarterHourRule = "mean",
) -> HourlyPrices:
    """Read prices from a file or from every ``.xml``/``.xlsx``/``.csv`` file of a folder."""
    path = Path(path)
    if path.is_dir():
        files: Sequence[Path] = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PRICE_SUFFIXES
        )
        if not files:
            raise InvalidInput.single(str(path), "no .xml, .xlsx or .csv price files in folder")
    else:
        files = [path]
    parts: list[tuple[str, HourlyPrices]] = []
    problems: list[Problem] = []
    for file in files:
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            problems.append(Problem(str(file), "no such file"))
            continue
        except OSError as err:
            problems.append(Problem(str(file), f"cannot read: {err.strerror}"))
            continue
        try:
            parts.append(
                (
                    str(file),
                    parse_price_file(
                        data, str(file), timezone=timezone, quarter_hours=quarter_hours
                    ),
                )
            )
        except InvalidInput as err:
            problems.extend(err.problems)
    if problems:
        raise InvalidInput(problems)
    return _merge_all(parts, quarter_hours)
