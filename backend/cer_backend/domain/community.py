"""The community (CER) as configured: members, plants and the statute that shares the money.

``parse_community`` validates the structure of the community file of ``FORMATS.md`` (already
loaded from YAML, or a JSON body) and reports every problem with its path. Whether the
community respects the GSE rules is a separate question: see
:mod:`cer_backend.domain.eligibility`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Final, Literal, TypeVar

from . import rules
from .alert_thresholds import alert_settings_problems
from .errors import InvalidInput, Problem
from .period import DEFAULT_TIMEZONE, add_years, zone
from .tariff import fc_zonale

ManagementFrom = Literal["tip", "total"]
ValorisationTo = Literal["plant_owners", "pool"]
ConsumersBy = Literal["coincident_withdrawal", "withdrawal", "equal"]
SurplusTo = Literal["non_business_consumers", "social_fund"]
Voltage = Literal["lv", "mv"]
Configuration = Literal["cer", "group"]

MANAGEMENT_FROM: Final = ("tip", "total")
VALORISATION_TO: Final = ("plant_owners", "pool")
CONSUMERS_BY: Final = ("coincident_withdrawal", "withdrawal", "equal")
SURPLUS_TO: Final = ("non_business_consumers", "social_fund")
VOLTAGES: Final = ("lv", "mv")
CONFIGURATIONS: Final = ("cer", "group")


@dataclass(frozen=True)
class Statute:
    """How the community shares its income (TIP + valorisation) among members and funds."""

    management_pct: Decimal
    management_from: ManagementFrom
    valorisation_to: ValorisationTo
    social_fund_pct: Decimal = Decimal(0)
    investment_fund_pct: Decimal = Decimal(0)
    producers_pct: Decimal = Decimal(0)
    consumers_by: ConsumersBy = "coincident_withdrawal"
    surplus_to: SurplusTo = "non_business_consumers"


Role = Literal["lighting", "building", "other"]
Language = Literal["it", "en"]


@dataclass(frozen=True)
class Location:
    """Where the community is (degrees): the sun's position for alerts."""

    lat: Decimal
    lon: Decimal


@dataclass(frozen=True)
class Point:
    """A connection point (POD) of a member: its cabina primaria (configuration, GSE-RULES
    §1 and §8), and for alerts a label and a role."""

    pod: str
    cabina_primaria: str
    label: str | None = None
    role: Role | None = None
    cabina_given: bool = False  # the file named the cabina (not the community's default)


@dataclass(frozen=True)
class Settings:
    """The ``settings`` block: the OPEN rules of GSE-RULES and the operating thresholds."""

    f_exemption_persons_from: dt.date = rules.F_EXEMPTION_PERSONS_FROM
    finalise_min_coverage_pct: Decimal = rules.FINALISE_MIN_COVERAGE_PCT
    public_page: bool = False
    language: Language = "it"
    report_recipients: tuple[str, ...] = ()
    alert_webhook_url: str | None = None
    #: g CO₂/kWh of the electricity the plants replace (council report), and who says so
    emission_factor_g_kwh: Decimal | None = None
    emission_factor_source: str | None = None
    #: when reports are e-mailed: ``manual`` (``reports send``) or ``after_finalise`` (serve)
    report_delivery: str = "manual"
    #: ``settings.alerts``: thresholds of the alert rules over their defaults (alert_thresholds)
    alerts: Mapping[str, Any] = field(default_factory=dict)
    #: which source of a POD-hour a settlement uses when several are stored, best first
    reading_sources: tuple[str, ...] = rules.READING_SOURCES


@dataclass(frozen=True)
class Member:
    """A member of the community and its connection points (POD)."""

    id: str
    name: str
    type: str
    pods: tuple[str, ...]
    joined: dt.date
    left: dt.date | None = None  # first day no longer a member
    ateco: str | None = None  # main ATECO code of a business (35.11.00 / 35.14.00 excluded)
    points: tuple[Point, ...] = ()  # details of ``pods`` (same order) when parsed from a file
    tax_code: str | None = None  # codice fiscale or partita IVA
    email: str | None = None  # personal data
    public: bool = False  # a body that agreed to be named on the public page

    @property
    def type_rules(self) -> rules.MemberType:
        """How the rules treat this member's type."""
        return rules.MEMBER_TYPES[self.type]

    def is_member_on(self, day: dt.date) -> bool:
        """Whether the member belongs to the community on local ``day``."""
        return self.joined <= day and (self.left is None or day < self.left)


@dataclass(frozen=True)
class Plant:
    """A production plant (UP) with its own production POD."""

    id: str
    pod: str
    owner: str
    power_kw: Decimal
    source: str
    commissioned: dt.date
    capital_grant_pct: Decimal = Decimal(0)
    voltage: Voltage = "lv"
    other_incentives: bool = False  # scambio sul posto or another production incentive
    built_for_cer: str | None = None  # reference of the pre-dated document (GSE-RULES §2)

    @property
    def pre_existing(self) -> bool:
        """In service before 16/12/2021: valorisation only, never TIP."""
        return self.commissioned < rules.PRE_EXISTING_BEFORE

    @property
    def band(self) -> rules.PowerBand:
        """TIP power band of the plant."""
        return rules.power_band(self.power_kw)

    @property
    def grant_factor(self) -> Decimal:
        """F, the TIP reduction for the capital grant."""
        return rules.grant_factor(self.capital_grant_pct)

    @property
    def incentive_end(self) -> dt.date:
        """First day after the 20-year incentive period."""
        return add_years(self.commissioned, rules.INCENTIVE_YEARS)

    @property
    def surplus_set(self) -> rules.SurplusSet:
        """Set j of the surplus rule: TIP only, or TIP with a capital grant."""
        return "tip_with_grant" if self.capital_grant_pct > 0 else "tip_only"


@dataclass(frozen=True)
class Community:
    """A renewable energy community (CER): one configuration per cabina primaria (§1)."""

    name: str
    region: rules.Region
    market_zone: str
    cabina_primaria: str
    constituted: dt.date
    cu_afa_eur_mwh: Mapping[str, Decimal]
    statute: Statute
    members: tuple[Member, ...]
    plants: tuple[Plant, ...]
    timezone: str = DEFAULT_TIMEZONE
    configuration: Configuration = "cer"
    cu_afb_eur_mwh: Mapping[str, Decimal] = field(default_factory=dict)
    gse_fees: rules.GseFeeSchedule = rules.GSE_FEES
    location: Location | None = None  # None: the centre of the region (see ``where``)
    settings: Settings = field(default_factory=Settings)

    @property
    def where(self) -> Location:
        """The community's location, by default the centre of its region (data of rules)."""
        if self.location is not None:
            return self.location
        return Location(self.region.centre_lat, self.region.centre_lon)

    @cached_property
    def points_by_pod(self) -> dict[str, Point]:
        """Every member's point by POD code (a POD given as a string: the default cabina)."""
        out: dict[str, Point] = {}
        for member in self.members:
            details = {p.pod: p for p in member.points}
            for pod in member.pods:
                out[pod] = details.get(pod) or Point(pod, self.cabina_primaria)
        return out

    def cabina_of(self, pod: str) -> str:
        """The cabina primaria of a POD: its member's point, else the community's default."""
        point = self.points_by_pod.get(pod)
        return point.cabina_primaria if point is not None else self.cabina_primaria

    @cached_property
    def configurations(self) -> tuple[str, ...]:
        """The cabine primarie of the community (GSE-RULES §1): the default first, then the
        others in the order the file names them."""
        seen = [self.cabina_primaria]
        for cabina in (
            *(p.cabina_primaria for p in self.points_by_pod.values()),
            *(self.cabina_of(plant.pod) for plant in self.plants),
        ):
            if cabina not in seen:
                seen.append(cabina)
        return tuple(seen)

    @property
    def area(self) -> rules.Area:
        """FC_zonale / acconto area (nord, centro, sud) of the region."""
        return self.region.area

    def cu_afa_for_month(self, month: str) -> Decimal | None:
        """CU_Afa (TRAS_E, €/MWh) in force in ``YYYY-MM``: the month's value beats the year's."""
        value = self.cu_afa_eur_mwh.get(month)
        if value is None:
            value = self.cu_afa_eur_mwh.get(month[:4])
        return value

    def cu_afb_for_month(self, month: str) -> Decimal | None:
        """CU_Afb (BTAU, €/MWh) in ``YYYY-MM``, for a group of self-consumers only."""
        value = self.cu_afb_eur_mwh.get(month)
        if value is None:
            value = self.cu_afb_eur_mwh.get(month[:4])
        return value

    @cached_property
    def members_by_id(self) -> dict[str, Member]:
        """Members by id."""
        return {member.id: member for member in self.members}

    def member(self, member_id: str) -> Member:
        """The member with ``member_id`` (KeyError when there is none)."""
        return self.members_by_id[member_id]

    def tip_eligible(self, plant: Plant) -> bool:
        """Whether ``plant`` may earn the TIP at all (GSE-RULES §2): a new plant (not
        pre-existing), without scambio sul posto or other production incentives, in service
        on or after the CER's constitution, or before it when :meth:`built_for_cer`. Its 20
        years are checked by date."""
        return (
            not plant.pre_existing
            and not plant.other_incentives
            and (plant.commissioned >= self.constituted or self.built_for_cer(plant))
        )

    def built_for_cer(self, plant: Plant) -> bool:
        """A plant commissioned before the constitution that earns the TIP (GSE-RULES §2, OPEN):
        commissioned from 16/12/2021 to 24/01/2024 (before the CACER decree) with a pre-dated
        document that shows it was built for the CER (``built_for_cer``)."""
        first, last = rules.BUILT_FOR_CER_WINDOW
        return (
            plant.commissioned < self.constituted
            and first <= plant.commissioned <= last
            and plant.built_for_cer is not None
        )

    def plants_first_in(self) -> list[Plant]:
        """Plants in "first in" order: commissioning date, then plant id (OPEN tie-break)."""
        return sorted(self.plants, key=lambda p: (p.commissioned, p.id))

    def fc_zonale(self, plant: Plant) -> Decimal:
        """FC_zonale of ``plant``: PV plants only, by the community's region."""
        return fc_zonale(self.area, plant.source)


# ---------------------------------------------------------------------------------------
# Validation

T = TypeVar("T")
_MISSING: Final = object()


class _Reader:
    """Collects problems while reading a nested structure."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(
        self,
        value: Any,
        path: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(path or "(top)", "must be a mapping")
            return None
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.problem(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.problem(f"{path}.{key}" if path else key, "is required")
        return value

    def field(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        convert: Callable[[Any, str], T | None],
        default: Any = _MISSING,
    ) -> T | None:
        where = f"{path}.{key}" if path else key
        if key not in data or (data[key] is None and default is not _MISSING):
            return None if default is _MISSING else default
        return convert(data[key], where)

    # converters ------------------------------------------------------------------------

    def text(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(path, "must be a non-empty string")
            return None
        return value.strip()

    def number(
        self,
        value: Any,
        path: str,
        minimum: Decimal | None = None,
        *,
        maximum: Decimal | None = None,
        exclusive_minimum: bool = False,
        bounds_text: str | None = None,
    ) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            self.problem(path, "must be a number")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(path, "must be a number")
            return None
        if not number.is_finite():
            self.problem(path, "must be a finite number")
            return None
        too_low = minimum is not None and (
            number <= minimum if exclusive_minimum else number < minimum
        )
        too_high = maximum is not None and number > maximum
        if too_low or too_high:
            if bounds_text is None:
                low = (
                    ""
                    if minimum is None
                    else (f"> {minimum}" if exclusive_minimum else f"≥ {minimum}")
                )
                high = "" if maximum is None else f"≤ {maximum}"
                bounds_text = "must be " + " and ".join(x for x in (low, high) if x)
            self.problem(path, bounds_text)
            return None
        return number

    def percent(self, value: Any, path: str) -> Decimal | None:
        return self.number(value, path, Decimal(0), maximum=Decimal(100))

    def date(self, value: Any, path: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            self.problem(path, "must be a date (YYYY-MM-DD), not a date and time")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(path, "must be a date YYYY-MM-DD")
        return None

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.problem(path, "must be true or false")
            return None
        return value

    def choice(self, value: Any, path: str, choices: Sequence[str]) -> str | None:
        if not isinstance(value, str) or value not in choices:
            self.problem(path, f"must be one of: {', '.join(choices)} (got {value!r})")
            return None
        return value


def _statute(reader: _Reader, value: Any, path: str) -> Statute | None:
    before = len(reader.problems)
    data = reader.mapping(
        value,
        path,
        required=("management_pct", "management_from", "valorisation_to"),
        optional=(
            "social_fund_pct",
            "investment_fund_pct",
            "producers_pct",
            "consumers_by",
            "surplus_to",
        ),
    )
    if data is None:
        return None
    zero = Decimal(0)
    management_pct = reader.field(data, path, "management_pct", reader.percent)
    management_from = reader.field(
        data, path, "management_from", lambda v, p: reader.choice(v, p, MANAGEMENT_FROM)
    )
    valorisation_to = reader.field(
        data, path, "valorisation_to", lambda v, p: reader.choice(v, p, VALORISATION_TO)
    )
    social = reader.field(data, path, "social_fund_pct", reader.percent, zero)
    investment = reader.field(data, path, "investment_fund_pct", reader.percent, zero)
    producers = reader.field(data, path, "producers_pct", reader.percent, zero)
    consumers_by = reader.field(
        data,
        path,
        "consumers_by",
        lambda v, p: reader.choice(v, p, CONSUMERS_BY),
        "coincident_withdrawal",
    )
    surplus_to = reader.field(
        data,
        path,
        "surplus_to",
        lambda v, p: reader.choice(v, p, SURPLUS_TO),
        "non_business_consumers",
    )
    if social is not None and investment is not None and social + investment > 100:
        reader.problem(
            f"{path}.social_fund_pct", "social_fund_pct + investment_fund_pct must be ≤ 100"
        )
    if len(reader.problems) > before:
        return None
    assert management_pct is not None and social is not None and investment is not None
    assert producers is not None
    return Statute(
        management_pct=management_pct,
        management_from=management_from,  # type: ignore[arg-type]
        valorisation_to=valorisation_to,  # type: ignore[arg-type]
        social_fund_pct=social,
        investment_fund_pct=investment,
        producers_pct=producers,
        consumers_by=consumers_by,  # type: ignore[arg-type]
        surplus_to=surplus_to,  # type: ignore[arg-type]
    )


def _gse_fees(reader: _Reader, value: Any, path: str) -> rules.GseFeeSchedule | None:
    """The GSE fee schedule (DM 106/2024 by default) when the file gives its own."""
    keys = ("free_up_to_kw", "base_eur", "base_up_to_kw", "eur_per_kw_beyond")
    data = reader.mapping(value, path, required=keys)
    if data is None:
        return None
    numbers = [
        reader.field(data, path, key, lambda v, p: reader.number(v, p, Decimal(0))) for key in keys
    ]
    if any(n is None for n in numbers):
        return None
    free, base, base_up_to, per_kw = (n for n in numbers if n is not None)
    return rules.GseFeeSchedule(free, base, base_up_to, per_kw)


_MONTH_OR_YEAR = re.compile(r"\d{4}(-(0[1-9]|1[0-2]))?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# codice fiscale of a person (16 letters and digits) or partita IVA / CF of a body (11 digits)
_TAX_CODE = re.compile(r"[A-Za-z0-9]{16}|\d{11}")
_ATECO = re.compile(rules.ATECO_PATTERN)
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


def _pattern(reader: _Reader, pattern: re.Pattern[str], what: str) -> Callable[[Any, str], Any]:
    """A converter: a non-empty string matching ``pattern`` (``what`` names it)."""

    def convert(value: Any, path: str) -> str | None:
        text = reader.text(value, path)
        if text is not None and not pattern.fullmatch(text):
            reader.problem(path, f"{text!r} is not {what}")
            return None
        return text

    return convert


def _location(reader: _Reader, value: Any, path: str) -> Location | None:
    """``community.location``: ``{lat, lon}`` in degrees."""
    data = reader.mapping(value, path, required=("lat", "lon"))
    if data is None:
        return None
    lat = reader.field(
        data, path, "lat", lambda v, p: reader.number(v, p, Decimal(-90), maximum=Decimal(90))
    )
    lon = reader.field(
        data, path, "lon", lambda v, p: reader.number(v, p, Decimal(-180), maximum=Decimal(180))
    )
    if lat is None or lon is None:
        return None
    return Location(lat, lon)


def _settings(reader: _Reader, value: Any, path: str) -> Settings | None:
    """The ``settings`` block (FORMATS.md): every key optional, each with its default."""
    defaults = Settings()
    data = reader.mapping(
        value,
        path,
        required=(),
        optional=(
            "f_exemption_persons_from",
            "finalise_min_coverage_pct",
            "public_page",
            "language",
            "report_recipients",
            "alert_webhook_url",
            "emission_factor_g_kwh",
            "emission_factor_source",
            "report_delivery",
            "alerts",
            "reading_sources",
        ),
    )
    if data is None:
        return None
    before = len(reader.problems)
    persons_from = reader.field(
        data, path, "f_exemption_persons_from", reader.date, defaults.f_exemption_persons_from
    )
    coverage = reader.field(
        data, path, "finalise_min_coverage_pct", reader.percent, defaults.finalise_min_coverage_pct
    )
    public_page = reader.field(data, path, "public_page", reader.boolean, defaults.public_page)
    language = reader.field(
        data, path, "language", lambda v, p: reader.choice(v, p, rules.LANGUAGES), "it"
    )
    recipients: list[str] = []
    raw = data.get("report_recipients")
    if raw is not None and not isinstance(raw, list):
        reader.problem(f"{path}.report_recipients", "must be a list of e-mail addresses")
    else:
        email = _pattern(reader, _EMAIL, "an e-mail address")
        for i, item in enumerate(raw or []):
            address = email(item, f"{path}.report_recipients[{i}]")
            if address is not None:
                recipients.append(address)
    webhook = reader.field(
        data, path, "alert_webhook_url", _pattern(reader, _URL, "an http(s) URL"), None
    )
    emission_factor = reader.field(
        data,
        path,
        "emission_factor_g_kwh",
        lambda v, p: reader.number(v, p, Decimal(0), maximum=Decimal(2000), exclusive_minimum=True),
        None,
    )
    emission_source = reader.field(data, path, "emission_factor_source", reader.text, None)
    delivery = reader.field(
        data,
        path,
        "report_delivery",
        lambda v, p: reader.choice(v, p, rules.REPORT_DELIVERY),
        defaults.report_delivery,
    )
    alerts = data.get("alerts")
    for where, message in alert_settings_problems(alerts, f"{path}.alerts"):
        reader.problem(where, message)
    sources = _reading_sources(reader, data.get("reading_sources"), f"{path}.reading_sources")
    if len(reader.problems) > before:
        return None
    assert persons_from is not None and coverage is not None
    return Settings(
        f_exemption_persons_from=persons_from,
        finalise_min_coverage_pct=coverage,
        public_page=bool(public_page),
        language=language,  # type: ignore[arg-type]
        report_recipients=tuple(recipients),
        alert_webhook_url=webhook,
        emission_factor_g_kwh=emission_factor,
        emission_factor_source=emission_source,
        report_delivery=str(delivery),
        alerts=dict(alerts or {}),
        reading_sources=sources,
    )


def _reading_sources(reader: _Reader, value: Any, path: str) -> tuple[str, ...]:
    """``settings.reading_sources``: distinct sources, best first; those left out follow in
    their default order (every stored hour stays usable)."""
    if value is None:
        return rules.READING_SOURCES
    if not isinstance(value, list) or not value:
        reader.problem(path, f"must be a list of sources: {', '.join(rules.READING_SOURCES)}")
        return rules.READING_SOURCES
    named: list[str] = []
    for i, item in enumerate(value):
        source = reader.choice(item, f"{path}[{i}]", rules.READING_SOURCES)
        if source is not None and source in named:
            reader.problem(f"{path}[{i}]", f"{source} is named twice")
        elif source is not None:
            named.append(str(source))
    return tuple(dict.fromkeys([*named, *rules.READING_SOURCES]))


def _point(reader: _Reader, value: Any, path: str, default_cabina: str | None) -> Point | None:
    """A POD of ``members[].pods``: a code, or ``{pod, cabina_primaria, label, role}``."""
    if not isinstance(value, Mapping):
        code = reader.text(value, path)
        return None if code is None else Point(code, default_cabina or "")
    data = reader.mapping(
        value, path, required=("pod",), optional=("cabina_primaria", "label", "role")
    )
    if data is None:
        return None
    before = len(reader.problems)
    code = reader.field(data, path, "pod", reader.text)
    cabina = reader.field(data, path, "cabina_primaria", reader.text, None)
    label = reader.field(data, path, "label", reader.text, None)
    role = reader.field(data, path, "role", lambda v, p: reader.choice(v, p, rules.POD_ROLES), None)
    if len(reader.problems) > before or code is None:
        return None
    return Point(
        code,
        cabina or default_cabina or "",
        label=label,
        role=role,  # type: ignore[arg-type]
        cabina_given=cabina is not None,
    )


def _cu_afa(reader: _Reader, value: Any, path: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    if not isinstance(value, Mapping):
        reader.problem(path, 'must be a mapping of "YYYY" or "YYYY-MM" to €/MWh')
        return out
    for key, amount in value.items():
        name = str(key)
        where = f"{path}.{name}"
        if isinstance(key, bool) or not _MONTH_OR_YEAR.fullmatch(name):
            reader.problem(where, 'key must be a year "YYYY" or a month "YYYY-MM"')
            continue
        number = reader.number(amount, where, Decimal(0))
        if number is not None:
            out[name] = number
    return out


def parse_community(data: Mapping[str, Any]) -> Community:
    """Validate a community file's structure (``FORMATS.md``) and build the :class:`Community`.

    Raises :class:`InvalidInput` listing every problem with its path, for example
    ``plants[3].power_kw: must be > 0 and ≤ 1000``.
    """
    reader = _Reader()
    top = reader.mapping(
        data, "", required=("community", "members", "plants"), optional=("settings",)
    )
    if top is None:
        raise InvalidInput(reader.problems)

    # community ----------------------------------------------------------------------
    name = region = market_zone = cabina = constituted = statute = None
    timezone = DEFAULT_TIMEZONE
    cu_afa: dict[str, Decimal] = {}
    cu_afb: dict[str, Decimal] = {}
    configuration: str | None = "cer"
    gse_fees: rules.GseFeeSchedule | None = rules.GSE_FEES
    location: Location | None = None
    settings: Settings | None = Settings()
    if top.get("settings") is not None:
        settings = _settings(reader, top["settings"], "settings")
    head = (
        reader.mapping(
            top["community"],
            "community",
            required=(
                "name",
                "region",
                "cabina_primaria",
                "constituted",
                "cu_afa_eur_mwh",
                "statute",
            ),
            optional=(
                "market_zone",
                "timezone",
                "configuration",
                "cu_afb_eur_mwh",
                "gse_fees",
                "location",
            ),
        )
        if "community" in top
        else None
    )
    if head is not None:
        name = reader.field(head, "community", "name", reader.text)
        region_name = reader.field(head, "community", "region", reader.text)
        if region_name is not None:
            region = rules.find_region(region_name)
            if region is None:
                reader.problem(
                    "community.region",
                    f"unknown Italian region {region_name!r} (expected one of: "
                    + ", ".join(rules.REGIONS)
                    + ")",
                )
        market_zone = reader.field(
            head,
            "community",
            "market_zone",
            lambda v, p: reader.choice(v, p, rules.MARKET_ZONES),
            None,
        )
        cabina = reader.field(head, "community", "cabina_primaria", reader.text)
        constituted = reader.field(head, "community", "constituted", reader.date)
        tz_name = reader.field(head, "community", "timezone", reader.text, DEFAULT_TIMEZONE)
        if tz_name is not None:
            try:
                zone(tz_name)
                timezone = tz_name
            except InvalidInput:
                reader.problem("community.timezone", f"unknown time zone {tz_name!r}")
        if "cu_afa_eur_mwh" in head:
            cu_afa = _cu_afa(reader, head["cu_afa_eur_mwh"], "community.cu_afa_eur_mwh")
        configuration = reader.field(
            head,
            "community",
            "configuration",
            lambda v, p: reader.choice(v, p, CONFIGURATIONS),
            "cer",
        )
        if "cu_afb_eur_mwh" in head:
            cu_afb = _cu_afa(reader, head["cu_afb_eur_mwh"], "community.cu_afb_eur_mwh")
        elif configuration == "group":
            reader.problem(
                "community.cu_afb_eur_mwh", "is required for a group of self-consumers (BTAU)"
            )
        if "statute" in head:
            statute = _statute(reader, head["statute"], "community.statute")
        if head.get("gse_fees") is not None:
            gse_fees = _gse_fees(reader, head["gse_fees"], "community.gse_fees")
        if head.get("location") is not None:
            location = _location(reader, head["location"], "community.location")

    # members ------------------------------------------------------------------------
    members: list[Member] = []
    member_ids: set[str] = set()
    pod_owner: dict[str, str] = {}
    raw_members = top.get("members")
    if "members" in top and not isinstance(raw_members, list):
        reader.problem("members", "must be a list")
        raw_members = []
    for i, raw in enumerate(raw_members or []):
        path = f"members[{i}]"
        before = len(reader.problems)
        item = reader.mapping(
            raw,
            path,
            ("id", "name", "type", "pods"),
            ("joined", "left", "ateco", "tax_code", "email", "public"),
        )
        if item is None:
            continue
        member_id = reader.field(item, path, "id", reader.text)
        if member_id is not None and member_id in member_ids:
            reader.problem(f"{path}.id", f"duplicate member id {member_id!r}")
        member_name = reader.field(item, path, "name", reader.text)
        member_type = reader.field(
            item, path, "type", lambda v, p: reader.choice(v, p, tuple(rules.MEMBER_TYPES))
        )
        pods: list[str] = []
        points: list[Point] = []
        raw_pods = item.get("pods")
        if "pods" in item and not isinstance(raw_pods, list):
            reader.problem(f"{path}.pods", "must be a list of POD codes")
        else:
            for j, pod in enumerate(raw_pods or []):
                point = _point(reader, pod, f"{path}.pods[{j}]", cabina)
                if point is None:
                    continue
                code = point.pod
                if code in pod_owner:
                    reader.problem(
                        f"{path}.pods[{j}]",
                        f"POD {code} already belongs to member {pod_owner[code]!r}",
                    )
                    continue
                pod_owner[code] = member_id or path
                pods.append(code)
                points.append(point)
        joined = reader.field(item, path, "joined", reader.date, None)
        left = reader.field(item, path, "left", reader.date, None)
        ateco = reader.field(
            item, path, "ateco", _pattern(reader, _ATECO, "an ATECO code (such as 35.11.00)"), None
        )
        tax_code = reader.field(
            item,
            path,
            "tax_code",
            _pattern(
                reader, _TAX_CODE, "a codice fiscale (16 characters) or partita IVA (11 digits)"
            ),
            None,
        )
        email = reader.field(
            item, path, "email", _pattern(reader, _EMAIL, "an e-mail address"), None
        )
        public = reader.field(item, path, "public", reader.boolean, False)
        if public and member_type is not None and not rules.MEMBER_TYPES[member_type].may_be_public:
            reader.problem(
                f"{path}.public",
                f"a {member_type} member cannot be named on the public page (bodies only)",
            )
        if joined is not None and left is not None and left <= joined:
            reader.problem(f"{path}.left", "must be after joined")
        if member_id is not None:
            member_ids.add(member_id)
        if len(reader.problems) > before:
            continue
        assert member_id is not None and member_name is not None and member_type is not None
        members.append(
            Member(
                id=member_id,
                name=member_name,
                type=member_type,
                pods=tuple(pods),
                joined=joined or constituted or dt.date.min,
                left=left,
                ateco=ateco,
                points=tuple(points),
                tax_code=tax_code,
                email=email,
                public=bool(public),
            )
        )

    # plants -------------------------------------------------------------------------
    plants: list[Plant] = []
    plant_ids: set[str] = set()
    plant_pods: dict[str, str] = {}
    raw_plants = top.get("plants")
    if "plants" in top and not isinstance(raw_plants, list):
        reader.problem("plants", "must be a list")
        raw_plants = []
    for i, raw in enumerate(raw_plants or []):
        path = f"plants[{i}]"
        before = len(reader.problems)
        item = reader.mapping(
            raw,
            path,
            ("id", "pod", "owner", "power_kw", "source", "commissioned"),
            ("capital_grant_pct", "voltage", "other_incentives", "built_for_cer"),
        )
        if item is None:
            continue
        plant_id = reader.field(item, path, "id", reader.text)
        if plant_id is not None and plant_id in plant_ids:
            reader.problem(f"{path}.id", f"duplicate plant id {plant_id!r}")
        pod = reader.field(item, path, "pod", reader.text)
        if pod is not None and pod in plant_pods:
            reader.problem(
                f"{path}.pod",
                f"POD {pod} already belongs to plant {plant_pods[pod]!r}: one POD per plant",
            )
        owner = reader.field(item, path, "owner", reader.text)
        if owner is not None and owner not in member_ids:
            reader.problem(f"{path}.owner", f"no member has id {owner!r}")
        power = reader.field(
            item,
            path,
            "power_kw",
            lambda v, p: reader.number(
                v,
                p,
                Decimal(0),
                maximum=rules.MAX_PLANT_POWER_KW,
                exclusive_minimum=True,
                bounds_text=f"must be > 0 and ≤ {rules.MAX_PLANT_POWER_KW}",
            ),
        )
        source = reader.field(item, path, "source", lambda v, p: reader.choice(v, p, rules.SOURCES))
        commissioned = reader.field(item, path, "commissioned", reader.date)
        grant = reader.field(
            item,
            path,
            "capital_grant_pct",
            lambda v, p: reader.number(
                v,
                p,
                Decimal(0),
                maximum=rules.MAX_CAPITAL_GRANT_PCT,
                bounds_text=(
                    f"must be between 0 and {rules.MAX_CAPITAL_GRANT_PCT}: above 40 % the TIP "
                    "cannot be combined with a capital grant"
                ),
            ),
            Decimal(0),
        )
        other = reader.field(item, path, "other_incentives", reader.boolean, False)
        built_for_cer = reader.field(item, path, "built_for_cer", reader.text, None)
        voltage = reader.field(
            item, path, "voltage", lambda v, p: reader.choice(v, p, VOLTAGES), "lv"
        )
        if plant_id is not None:
            plant_ids.add(plant_id)
        if pod is not None:
            plant_pods.setdefault(pod, plant_id or path)
        if len(reader.problems) > before:
            continue
        assert plant_id and pod and owner and power is not None and source and commissioned
        assert grant is not None
        plants.append(
            Plant(
                id=plant_id,
                pod=pod,
                owner=owner,
                power_kw=power,
                source=source,
                commissioned=commissioned,
                capital_grant_pct=grant,
                voltage=voltage,  # type: ignore[arg-type]
                other_incentives=bool(other),
                built_for_cer=built_for_cer,
            )
        )

    if reader.problems:
        raise InvalidInput(reader.problems)
    assert name and region and cabina and constituted and statute and settings
    return Community(
        name=name,
        region=region,
        market_zone=market_zone or region.market_zone,
        cabina_primaria=cabina,
        constituted=constituted,
        cu_afa_eur_mwh=cu_afa,
        configuration=configuration,  # type: ignore[arg-type]
        cu_afb_eur_mwh=cu_afb,
        gse_fees=gse_fees or rules.GSE_FEES,
        statute=statute,
        members=tuple(members),
        plants=tuple(plants),
        timezone=timezone,
        location=location,
        settings=settings,
    )
