"""``settle``: the GSE rules hour by hour, with the worked numbers of GSE-RULES.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from cer_backend.domain.community import Community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices
from cer_backend.domain.settlement import SettlementOptions, SettlementResult, settle

from .builders import flat_prices, make_community, member, one_hour, plant, pod

SHOP = member("shop", "sme", [pod(9)])


def run(
    community: Community,
    day: str,
    injected: dict[str, int],
    withdrawn: dict[str, int],
    price: str = "130",
    *,
    options: SettlementOptions | None = None,
) -> SettlementResult:
    period, energy = one_hour(day, injected, withdrawn)
    prices = flat_prices(period, community.market_zone, price)
    return settle(community, energy, prices, period, options)


def test_first_in_worked_hour() -> None:
    """GSE-RULES §1: 70 kWh withdrawn; P0 2019 10 kWh, P1 40 kWh, P2 60 kWh → 10/40/20."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1), pod(2), pod(3)]),
            member("rossi", "person", [pod(4)]),
        ],
        plants=[
            plant("P2", pod(3), 300, "2024-09-01"),
            plant("P0", pod(1), 10, "2019-05-01"),
            plant("P1", pod(2), 100, "2024-03-01"),
        ],
    )
    result = run(
        community,
        "2025-06-01",
        {pod(1): 10_000, pod(2): 40_000, pod(3): 60_000},
        {pod(4): 70_000},
    )
    allocation = {p.id: p.allocated_wh for p in result.plants}
    assert allocation == {"P0": 10_000, "P1": 40_000, "P2": 20_000}
    assert [p.id for p in result.plants] == ["P0", "P1", "P2"]
    assert result.shared_wh == 70_000
    assert result.incentivised_wh == 60_000
    incentivised = {p.id: p.incentivised_wh for p in result.plants}
    assert incentivised == {"P0": 0, "P1": 40_000, "P2": 20_000}
    # Sud, Pz 130: P1 (band 1) 120 €/MWh, P2 (band 2) capped at 110 €/MWh
    assert result.tip == Fraction(40 * 120 + 20 * 110, 1000)
    data = result.to_json_dict()
    assert data["tip_eur"] == "7.00"
    assert {p["id"]: p["tip_eur"] for p in data["plants"]} == {
        "P0": "0.00",
        "P1": "4.80",
        "P2": "2.20",
    }
    # valorisation on the shared energy, pre-existing plant included: 70 kWh × 10.57 €/MWh
    assert result.valorisation == Fraction(70) * Fraction("10.57") / 1000
    assert data["valorisation_eur"] == "0.74"


def test_shared_is_the_minimum_of_the_hour() -> None:
    community = make_community()
    result = run(community, "2025-06-01", {pod(1): 5_000}, {pod(2): 7_000, pod(1): 1_000})
    assert (result.injected_wh, result.withdrawn_wh, result.shared_wh) == (5_000, 8_000, 5_000)


@pytest.mark.parametrize(
    ("region", "power", "source", "price", "grant", "tip_eur_mwh"),
    [
        ("Sicilia", 100, "pv", "130", 0, 120),
        ("Sicilia", 100, "pv", "150", 0, 110),
        ("Sicilia", 100, "pv", "250", 0, 80),
        ("Sicilia", 100, "pv", "-5", 0, 120),
        ("Lombardia", 100, "pv", "100", 0, 130),
        ("Toscana", 100, "pv", "160", 0, 104),
        ("Sicilia", 300, "pv", "160", 0, 90),
        ("Sicilia", 600, "pv", "100", 0, 110),
        ("Lombardia", 800, "pv", "170", 0, 80),
        ("Toscana", 100, "pv", "130", 20, 93),
        ("Lombardia", 100, "wind", "100", 0, 120),
        ("Sicilia", 200, "pv", "0", 0, 120),
        ("Sicilia", "200.5", "pv", "0", 0, 110),
    ],
)
def test_tip_unit_checks_through_the_engine(  # noqa: PLR0917
    region: str, power: object, source: str, price: str, grant: int, tip_eur_mwh: int
) -> None:
    """1 MWh shared with a non-exempt member: the TIP in € equals the unit TIP in €/MWh."""
    community = make_community(
        region=region,
        members=[member("comune", "municipality", [pod(1)]), SHOP],
        plants=[plant("p", pod(1), power, "2024-03-01", source=source, capital_grant_pct=grant)],
    )
    result = run(community, "2025-06-01", {pod(1): 2_000_000}, {pod(9): 1_000_000}, price)
    assert result.incentivised_wh == 1_000_000
    assert result.tip == tip_eur_mwh


def test_f_exemption_pro_rata_to_exempt_withdrawals() -> None:
    """F = 0.25 (20 % grant) applies only to the part of E_ACI withdrawn by the shop."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(2)]),
            SHOP,
        ],
        plants=[plant("p", pod(1), 100, "2024-03-01", capital_grant_pct=20)],
    )
    injected = {pod(1): 100_000}
    withdrawn = {pod(2): 30_000, pod(9): 10_000}
    result = run(community, "2025-06-01", injected, withdrawn)
    # 30 kWh exempt × 120 + 10 kWh × 120 × 0.75
    assert result.tip == Fraction(30 * 120, 1000) + Fraction(10 * 90, 1000)
    assert result.to_json_dict()["tip_eur"] == "4.50"
    without = run(
        community, "2025-06-01", injected, withdrawn, options=SettlementOptions(f_exemption="none")
    )
    assert without.tip == Fraction(40 * 90, 1000)


def test_f_exemption_split_is_rounded_to_the_wh() -> None:
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(2)]),
            SHOP,
        ],
        plants=[plant("p", pod(1), 100, "2024-03-01", capital_grant_pct=40)],
    )
    # E_ACI 10 Wh; exempt 10 × 5/15 = 3.33 → 3 Wh at 120, 7 Wh at 60
    result = run(community, "2025-06-01", {pod(1): 10}, {pod(2): 5, pod(9): 10})
    assert result.tip == Fraction(3 * 120 + 7 * 60, 1_000_000)


def test_plant_earns_nothing_before_commissioning() -> None:
    community = make_community(plants=[plant("scuola", pod(1), 100, "2025-06-02")])
    result = run(community, "2025-06-01", {pod(1): 10_000}, {pod(2): 5_000})
    assert result.shared_wh == 0
    assert result.tip == 0


def test_incentive_ends_after_twenty_years() -> None:
    community = make_community(
        constituted="2022-01-01", plants=[plant("scuola", pod(1), 100, "2022-02-01")]
    )
    inside = run(community, "2042-01-31", {pod(1): 10_000}, {pod(2): 5_000})
    after = run(community, "2042-02-01", {pod(1): 10_000}, {pod(2): 5_000})
    assert inside.incentivised_wh == 5_000
    assert after.incentivised_wh == 0
    assert after.shared_wh == 5_000  # still shared, still valorised


def test_member_counts_only_while_member() -> None:
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(2)], left="2025-06-01"),
            member("verdi", "person", [pod(3)], joined="2025-06-02"),
        ]
    )
    result = run(community, "2025-06-01", {pod(1): 10_000}, {pod(2): 5_000, pod(3): 5_000})
    assert result.withdrawn_wh == 0
    assert result.shared_wh == 0
    assert [m.id for m in result.members] == ["comune"]


def test_quarter_hours_are_summed_before_the_minimum() -> None:
    community = make_community()
    period = Period.parse("2025-06-01")
    start = period.hour_start(12)
    quarter = dt.timedelta(minutes=15)
    rows = [(pod(1), start, 1_000, 0)] + [(pod(1), start + quarter * i, 0, 0) for i in (1, 2, 3)]
    rows += [(pod(2), start + quarter * i, 0, 250) for i in range(4)]
    energy = HourlyEnergy.from_rows(rows, period)
    result = settle(community, energy, flat_prices(period, "SICI", "130"), period)
    # per quarter the minimum would be 0; per hour it is 1,000 Wh
    assert result.shared_wh == 1_000


@pytest.mark.parametrize(("day", "hours"), [("2025-03-30", 23), ("2025-10-26", 25)])
def test_clock_change_days(day: str, hours: int) -> None:
    community = make_community()
    period = Period.parse(day)
    rows = []
    for h in range(hours):
        start = period.hour_start(h)
        rows += [(pod(1), start, 1_000, 0), (pod(2), start, 0, 600)]
    energy = HourlyEnergy.from_rows(rows, period)
    result = settle(community, energy, flat_prices(period, "SICI", "130"), period)
    data = result.to_json_dict()
    assert data["hours"] == hours
    assert data["shared_wh"] == 600 * hours
    assert data["missing"]["incomplete_hours"] == 0
    assert result.tip == Fraction(600 * hours * 120, 1_000_000)


def test_autumn_rows_with_both_offsets_are_distinct_hours() -> None:
    period = Period.parse("2025-10-26")
    first = dt.datetime.fromisoformat("2025-10-26T02:00:00+02:00")
    second = dt.datetime.fromisoformat("2025-10-26T02:00:00+01:00")
    energy = HourlyEnergy.from_rows([(pod(2), first, 0, 1), (pod(2), second, 0, 2)], period)
    assert energy.withdrawn[0, 2] == 1 and energy.withdrawn[0, 3] == 2


def test_missing_hours_are_reported_not_zero() -> None:
    community = make_community()
    period = Period.parse("2025-06-01")
    rows = []
    for h in range(24):
        start = period.hour_start(h)
        rows.append((pod(1), start, 1_000, 0))
        if h not in (10, 11):
            rows.append((pod(2), start, 0, 400))
    energy = HourlyEnergy.from_rows(rows, period)
    result = settle(community, energy, flat_prices(period, "SICI", "130"), period)
    data = result.to_json_dict()
    assert data["shared_wh"] == 22 * 400
    assert data["missing"]["incomplete_hours"] == 2
    assert data["missing"]["pods"] == [
        {
            "pod": pod(2),
            "hours": 2,
            "first": "2025-06-01T10:00:00+02:00",
            "last": "2025-06-01T11:00:00+02:00",
        }
    ]
    assert any("missing" in w for w in data["warnings"])
    assert not result.hourly.complete[10] and result.hourly.complete[12]


def test_pod_without_any_reading_is_missing() -> None:
    community = make_community()
    result = run(community, "2025-06-01", {pod(1): 1_000}, {})
    assert result.missing.pod_hours[pod(2)] == list(range(24))


def test_missing_price_for_shared_hour_is_an_error_naming_it() -> None:
    community = make_community()
    period, energy = one_hour("2025-06-01", {pod(1): 1_000}, {pod(2): 500})
    prices = HourlyPrices.from_rows(
        ("SICI", period.hour_start(h), Decimal(100)) for h in range(24) if h != 12
    )
    result = settle(community, energy, prices, period)
    assert len(result.errors) == 1
    assert "2025-06-01T12:00+02:00" in result.errors[0]
    assert result.tip == 0
    other_zone = flat_prices(period, "NORD", "100")
    assert settle(community, energy, other_zone, period).errors


def test_negative_price_caps_tip_and_lowers_rid() -> None:
    community = make_community()
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 50_000}, "-5")
    assert result.tip == Fraction(50 * 120, 1000)
    assert result.rid == Fraction(-5 * 100, 1000)
    assert result.to_json_dict()["rid_eur"] == "-0.50"


def test_rid_at_zonal_price() -> None:
    community = make_community()
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 50_000}, "98.52")
    assert result.rid == Fraction("98.52") * 100 / 1000


def test_valorisation_uses_the_month_value() -> None:
    community = make_community(cu_afa_eur_mwh={"2025": Decimal("10.57"), "2025-06": Decimal(12)})
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 50_000})
    assert result.valorisation == Fraction(50 * 12, 1000)


def test_missing_cu_afa_is_an_error() -> None:
    community = make_community(cu_afa_eur_mwh={"2024": Decimal("10.57")})
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 50_000})
    assert any("CU_Afa" in e and "2025-06" in e for e in result.errors)


@pytest.mark.parametrize(("period", "fee"), [("2025", "95.00"), ("2025-06", "7.92")])
def test_gse_fees_share_of_the_year(period: str, fee: str) -> None:
    community = make_community()
    p = Period.parse(period)
    energy = HourlyEnergy.from_rows([], p, [pod(1), pod(2)])
    result = settle(community, energy, HourlyPrices(), p)
    assert result.to_json_dict()["gse_fees_eur"] == fee


def test_surplus_earmark_through_the_engine() -> None:
    """Ratio 0.95 against the 55 % threshold: 40 points of C_ACI go to non-business members."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(2)]),
            SHOP,
        ],
        statute={"consumers_by": "coincident_withdrawal"},
    )
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 45_000, pod(9): 50_000})
    c_aci = Fraction(95 * 120, 1000)
    assert result.tip == c_aci
    assert result.surplus_earmarked == Fraction(40, 100) * c_aci
    assert result.to_json_dict()["surplus_earmarked_eur"] == "4.56"
    assert any("estimate" in w for w in result.warnings)
    amounts = {m.id: m.amount_cents for m in result.members}
    # the shop gets its coincident share of what is left after the earmark, never the earmark
    rest = (c_aci + result.valorisation) - result.surplus_earmarked
    assert amounts["shop"] == round(rest * 50 / 95 * 100)


def test_surplus_to_social_fund() -> None:
    community = make_community(statute={"surplus_to": "social_fund"})
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 95_000})
    assert result.distribution.social_fund_cents == 456


def test_json_has_the_formats_keys() -> None:
    community = make_community()
    data = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 95_000}).to_json_dict()
    required = {
        "period", "hours", "injected_wh", "withdrawn_wh", "shared_wh", "incentivised_wh",
        "tip_eur", "valorisation_eur", "surplus_earmarked_eur", "rid_eur", "gse_fees_eur",
        "plants", "members", "warnings", "errors",
    }  # fmt: skip
    assert required <= set(data)
    assert {"id", "allocated_wh", "incentivised_wh", "tip_eur"} <= set(data["plants"][0])
    assert {"id", "shared_wh", "amount_eur"} <= set(data["members"][0])
    assert data["period"] == "2025-06-01" and data["hours"] == 24


def test_members_amounts_add_up_to_tip_plus_valorisation() -> None:
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("a", "person", [pod(2)]),
            member("b", "person", [pod(3)]),
            member("c", "sme", [pod(4)]),
        ],
        statute={"management_pct": 15, "social_fund_pct": 7, "investment_fund_pct": 3},
    )
    result = run(
        community, "2025-06-01", {pod(1): 100_003}, {pod(2): 33_333, pod(3): 33_333, pod(4): 33_334}
    )
    data = result.to_json_dict()

    def cents(text: str) -> int:
        return int(Decimal(text) * 100)

    total = cents(data["tip_eur"]) + cents(data["valorisation_eur"])
    shared = (
        sum(cents(m["amount_eur"]) for m in data["members"])
        + cents(data["management_eur"])
        + cents(data["funds"]["social_eur"])
        + cents(data["funds"]["investment_eur"])
    )
    assert shared == total
    assert sum(m["shared_wh"] for m in data["members"]) == data["shared_wh"]


def test_energy_must_cover_the_period() -> None:
    community = make_community()
    _period, energy = one_hour("2025-06-01", {pod(1): 1}, {pod(2): 1})
    with pytest.raises(InvalidInput):
        settle(community, energy, HourlyPrices(), Period.parse("2025-06"))


def test_energy_may_cover_more_than_the_period() -> None:
    community = make_community()
    month = Period.parse("2025-06")
    rows = [(pod(1), month.hour_start(36), 1_000, 0), (pod(2), month.hour_start(36), 0, 400)]
    energy = HourlyEnergy.from_rows(rows, month)
    day = Period.parse("2025-06-02")
    result = settle(community, energy, flat_prices(day, "SICI", "1"), day)
    assert result.shared_wh == 400


def test_plant_with_other_incentives_gets_no_tip() -> None:
    community = make_community(
        plants=[plant("p", pod(1), 100, "2024-03-01", other_incentives=True)]
    )
    result = run(community, "2025-06-01", {pod(1): 10_000}, {pod(2): 5_000})
    assert result.shared_wh == 5_000 and result.incentivised_wh == 0 and result.tip == 0


def test_group_of_self_consumers_valorisation() -> None:
    """C_ACV = CU_Afa × E_ACV + CU_Afb × E_ACVC + Σ E_ACVC,i × c_PR,i × Pz (one building)."""
    community = make_community(
        configuration="group",
        cu_afb_eur_mwh={"2025": Decimal("0.65")},
        members=[
            member("comune", "municipality", [pod(1), pod(3)]),
            member("rossi", "person", [pod(2)]),
        ],
        plants=[
            plant("lv", pod(1), 50, "2024-03-01"),
            plant("mv", pod(3), 500, "2024-04-01", voltage="mv"),
        ],
    )
    result = run(
        community, "2025-06-01", {pod(1): 30_000, pod(3): 100_000}, {pod(2): 80_000}, "100"
    )
    # first in: lv 30 kWh, mv 50 kWh
    expected = Fraction(80) * (Fraction("10.57") + Fraction("0.65")) / 1000
    expected += Fraction(30) * Fraction("0.026") * 100 / 1000
    expected += Fraction(50) * Fraction("0.012") * 100 / 1000
    assert result.valorisation == expected
    cer = make_community(
        members=[
            member("comune", "municipality", [pod(1), pod(3)]),
            member("rossi", "person", [pod(2)]),
        ],
        plants=[plant("lv", pod(1), 50, "2024-03-01"), plant("mv", pod(3), 500, "2024-04-01")],
    )
    plain = run(cer, "2025-06-01", {pod(1): 30_000, pod(3): 100_000}, {pod(2): 80_000}, "100")
    assert plain.valorisation == Fraction(80) * Fraction("10.57") / 1000


def test_group_needs_btau() -> None:
    from cer_backend.domain.community import parse_community  # noqa: PLC0415

    from .builders import community_data  # noqa: PLC0415

    with pytest.raises(InvalidInput) as caught:
        parse_community(community_data(configuration="group"))
    assert caught.value.problems[0].path == "community.cu_afb_eur_mwh"


def test_gse_fee_schedule_from_the_community_file() -> None:
    schedule = {"free_up_to_kw": 3, "base_eur": 20, "base_up_to_kw": 20, "eur_per_kw_beyond": 2}
    community = make_community(gse_fees=schedule)
    p = Period.parse("2025")
    result = settle(community, HourlyEnergy.from_rows([], p, [pod(1)]), HourlyPrices(), p)
    assert result.gse_fees == 20 + 2 * 80


def test_acconto_and_balance_of_the_period() -> None:
    community = make_community()  # 100 kW PV in Sicilia since 2024-03
    result = run(community, "2025-06-01", {pod(1): 100_000}, {pod(2): 50_000})
    assert result.to_json_dict()["acconto"] is None  # a day is not a month
    period = Period.parse("2025-06")
    energy = HourlyEnergy.from_rows(
        [(pod(1), period.hour_start(12), 100_000, 0), (pod(2), period.hour_start(12), 0, 50_000)],
        period,
    )
    month = settle(community, energy, flat_prices(period, "SICI", "130"), period).to_json_dict()
    # 0.1 MW × 1,100 h × 0.6 × 100 €/MWh / 12 = 550.00; TIP earned 50 kWh × 120 = 6.00
    assert month["acconto"]["tip_eur"] == "550.00"
    assert month["acconto"]["valorisation_eur"] == "58.14"
    assert month["acconto"]["balance_tip_eur"] == "-544.00"


def test_surplus_sets_have_their_thresholds() -> None:
    """A grant plant at ratio 0.50 is 5 points over 45 %; a TIP-only one at 0.50 is under 55 %."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1), pod(3)]),
            member("rossi", "person", [pod(2)]),
        ],
        plants=[
            plant("solo", pod(1), 100, "2024-03-01"),
            plant("grant", pod(3), 100, "2024-04-01", capital_grant_pct=20),
        ],
    )
    # first in: solo (older) takes all 100 shared kWh, the grant plant none
    result = run(community, "2025-06-01", {pod(1): 100_000, pod(3): 100_000}, {pod(2): 100_000})
    sets = {s["set"]: s for s in result.surplus_sets}
    assert sets["tip_only"]["incentivised_wh"] == 100_000
    assert sets["tip_only"]["earmarked_eur"] != "0.00"  # solo took all 100 kWh: ratio 1.0
    assert sets["tip_with_grant"]["incentivised_wh"] == 0
    grant_only = run(community, "2025-06-01", {pod(1): 0, pod(3): 100_000}, {pod(2): 50_000})
    grant_set = next(s for s in grant_only.surplus_sets if s["set"] == "tip_with_grant")
    # E_ACI 50 kWh of 100 injected: 0.50 − 0.45 = 5 points of C_ACI (50 kWh × 120 × 1, exempt)
    assert grant_set["excess_points"] == "5.0000"
    assert grant_only.surplus_earmarked == Fraction(5, 100) * Fraction(50 * 120, 1000)
