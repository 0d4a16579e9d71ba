"""The rules of issue #11, each with hand-computed figures (GSE-RULES §1, §2, §5).

Sicilia (area sud, no FC_zonale), Pz 130 €/MWh: a band-1 plant's TIP is
min(120; 80 + (180 − 130)) = 120 €/MWh, and 60 €/MWh with a 40 % grant (F = 0.5).
CU_Afa 10.57 €/MWh.
"""

from __future__ import annotations

from fractions import Fraction

from cer_backend.domain.advance import advances_of_months, monthly_advance
from cer_backend.domain.community import Community, parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.settlement import SettlementResult, settle

from .builders import community_data, flat_prices, make_community, member, one_hour, plant, pod

CABINA_A = "AC001E01725"  # the community's
CABINA_B = "AC001E01726"


def run(
    community: Community, day: str, injected: dict[str, int], withdrawn: dict[str, int]
) -> SettlementResult:
    period, energy = one_hour(day, injected, withdrawn)
    return settle(community, energy, flat_prices(period, community.market_zone, "130"), period)


# §1 configurations ---------------------------------------------------------------------


def two_cabine() -> Community:
    return make_community(
        members=[
            member(
                "comune",
                "municipality",
                [pod(1), {"pod": pod(3), "cabina_primaria": CABINA_B}],
            ),
            member("rossi", "person", [pod(2)]),
            member("shop", "sme", [{"pod": pod(4), "cabina_primaria": CABINA_B}]),
        ],
        plants=[
            plant("pa", pod(1), 100, "2024-03-01"),
            plant("pb", pod(3), 100, "2024-03-01"),
        ],
    )


def test_no_sharing_across_cabine_in_the_same_hour() -> None:
    """Cabina A: plant 50 kWh, withdrawals 10 kWh (surplus 40). Cabina B: plant 15 kWh,
    withdrawals 30 kWh (deficit 15). Pooled, 40 kWh would be shared; apart, 10 + 15 = 25."""
    result = run(
        two_cabine(),
        "2025-06-01",
        {pod(1): 50_000, pod(3): 15_000},
        {pod(2): 10_000, pod(4): 30_000},
    )
    out = result.to_json_dict()
    a, b = out["configurations"]
    assert (a["cabina_primaria"], b["cabina_primaria"]) == (CABINA_A, CABINA_B)
    assert (a["plants"], b["plants"]) == (["pa"], ["pb"])
    assert (a["points"], b["points"]) == (2, 2)
    assert (a["injected_wh"], a["withdrawn_wh"], a["shared_wh"]) == (50_000, 10_000, 10_000)
    assert (b["injected_wh"], b["withdrawn_wh"], b["shared_wh"]) == (15_000, 30_000, 15_000)
    assert (a["incentivised_wh"], b["incentivised_wh"]) == (10_000, 15_000)
    assert out["shared_wh"] == 25_000 and out["incentivised_wh"] == 25_000
    # TIP: 10 kWh × 120 = 1.20 €; 15 kWh × 120 = 1.80 €
    assert (a["tip_eur"], b["tip_eur"], out["tip_eur"]) == ("1.20", "1.80", "3.00")
    # valorisation rounded per configuration: 10 × 10.57 / 1000 = 0.1057 → 0.11 and
    # 15 × 10.57 / 1000 = 0.15855 → 0.16; the community reports 0.27 (not 0.26425 → 0.26)
    assert (a["valorisation_eur"], b["valorisation_eur"]) == ("0.11", "0.16")
    assert out["valorisation_eur"] == "0.27"
    # RID: 50 kWh × 130 = 6.50 €, 15 kWh × 130 = 1.95 €
    assert (a["rid_eur"], b["rid_eur"], out["rid_eur"]) == ("6.50", "1.95", "8.45")
    # members: Rossi takes all of A's shared energy, the shop 15 of its 30 kWh in B
    shared = {m["id"]: m["shared_wh"] for m in out["members"]}
    assert shared == {"comune": 0, "rossi": 10_000, "shop": 15_000}
    # the statute shares the money of both: 3.00 + 0.27 = 3.27 €
    assert result.distribution.total_cents == 327
    assert sum(m.amount_cents for m in result.members) == 327  # management 0, no funds
    assert {p["id"]: p["cabina_primaria"] for p in out["plants"]} == {
        "pa": CABINA_A,
        "pb": CABINA_B,
    }


def test_one_cabina_keeps_its_output_with_a_one_element_list() -> None:
    community = make_community()
    out = run(community, "2025-06-01", {pod(1): 10_000}, {pod(2): 4_000}).to_json_dict()
    (only,) = out["configurations"]
    assert only["cabina_primaria"] == CABINA_A
    assert (only["shared_wh"], only["tip_eur"]) == (4_000, "0.48")  # 4 kWh × 120
    assert out["tip_eur"] == "0.48"


# §2 the F exemption ---------------------------------------------------------------------


def test_exempt_energy_goes_first_to_the_grant_plant_behind_a_plain_one() -> None:
    """P1 (no grant, 2024-03) and G (40 % grant, 2024-09) inject 30 kWh each; Rossi
    (person, exempt) and a shop withdraw 20 kWh each. Shared 40 kWh: first in P1 30, G 10.
    Exempt energy 40 × 20/40 = 20 kWh, to G first: all its 10 kWh are exempt."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1), pod(2)]),
            member("rossi", "person", [pod(3)]),
            member("shop", "sme", [pod(9)]),
        ],
        plants=[
            plant("P1", pod(1), 100, "2024-03-01"),
            plant("G", pod(2), 100, "2024-09-01", capital_grant_pct=40),
        ],
    )
    result = run(
        community, "2025-06-01", {pod(1): 30_000, pod(2): 30_000}, {pod(3): 20_000, pod(9): 20_000}
    )
    tips = {p.id: p.tip for p in result.plants}
    assert {p.id: p.allocated_wh for p in result.plants} == {"P1": 30_000, "G": 10_000}
    assert tips["P1"] == Fraction(30 * 120, 1000)  # 3.60 €
    # G: 10 kWh exempt at 120 → 1.20 € (pro-rata per plant would give 5×120 + 5×60 = 0.90)
    assert tips["G"] == Fraction(10 * 120, 1000)


def test_exempt_energy_beyond_the_grant_plants_reaches_the_others() -> None:
    """G first in (30 kWh), P1 after (30 kWh), withdrawals 20 exempt + 40 not: shared
    60 kWh, exempt 60 × 20/60 = 20 kWh, all to G: 20 × 120 + 10 × 60 = 3.00 €."""
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1), pod(2)]),
            member("rossi", "person", [pod(3)]),
            member("shop", "sme", [pod(9)]),
        ],
        plants=[
            plant("G", pod(2), 100, "2024-03-01", capital_grant_pct=40),
            plant("P1", pod(1), 100, "2024-09-01"),
        ],
    )
    result = run(
        community, "2025-06-01", {pod(1): 30_000, pod(2): 30_000}, {pod(3): 20_000, pod(9): 40_000}
    )
    tips = {p.id: p.tip for p in result.plants}
    assert tips["G"] == Fraction(20 * 120 + 10 * 60, 1000)
    assert tips["P1"] == Fraction(30 * 120, 1000)


def household(persons_from: str | None = None) -> Community:
    data = community_data(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(3)]),
            member("shop", "sme", [pod(9)]),
        ],
        plants=[plant("G", pod(1), 100, "2024-03-01", capital_grant_pct=40)],
    )
    if persons_from is not None:
        data["settings"] = {"f_exemption_persons_from": persons_from}
    return parse_community(data)


def test_a_households_withdrawals_are_exempt_from_2025_05_16() -> None:
    """G (F = 0.5) 10 kWh, Rossi 5 kWh and a shop 5 kWh. On 15 May 2025 nothing is exempt:
    10 × 60 = 0.60 €; on 16 May half is: 5 × 120 + 5 × 60 = 0.90 €."""
    readings = ({pod(1): 10_000}, {pod(3): 5_000, pod(9): 5_000})
    before = run(household(), "2025-05-15", *readings)
    after = run(household(), "2025-05-16", *readings)
    assert before.tip == Fraction(10 * 60, 1000)
    assert after.tip == Fraction(5 * 120 + 5 * 60, 1000)
    # the date is a setting: from 10 May, the 15th is exempt too
    earlier = run(household("2025-05-10"), "2025-05-15", *readings)
    assert earlier.tip == Fraction(5 * 120 + 5 * 60, 1000)
    assert any("2025-05-10" in a for a in earlier.assumptions)


def test_environmental_bodies_are_exempt() -> None:
    community = make_community(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("parco", "environmental", [pod(9)]),
        ],
        plants=[plant("G", pod(1), 100, "2024-03-01", capital_grant_pct=40)],
    )
    result = run(community, "2025-06-01", {pod(1): 10_000}, {pod(9): 10_000})
    assert result.tip == Fraction(10 * 120, 1000)  # all exempt: no F


# §2 plants before the constitution -----------------------------------------------------


def test_a_plant_from_2023_earns_the_tip_only_when_built_for_the_cer() -> None:
    """Constituted 2024-01-01; a plant of 2023-05-01 shares 10 kWh with Rossi."""
    without = make_community(plants=[plant("old", pod(1), 100, "2023-05-01")])
    with_doc = make_community(
        plants=[plant("old", pod(1), 100, "2023-05-01", built_for_cer="delibera 7/2023")]
    )
    readings = ({pod(1): 10_000}, {pod(2): 10_000})
    plain = run(without, "2025-06-01", *readings)
    built = run(with_doc, "2025-06-01", *readings)
    assert plain.tip == 0 and plain.incentivised_wh == 0
    assert built.tip == Fraction(10 * 120, 1000) and built.incentivised_wh == 10_000
    valorisation = Fraction(10) * Fraction("10.57") / 1000  # both earn it
    assert plain.valorisation == valorisation == built.valorisation
    assert any("built_for_cer" in a for a in plain.assumptions)


def test_built_for_cer_gives_nothing_outside_its_window() -> None:
    """Only plants commissioned 16/12/2021–24/01/2024 may earn the TIP by the document."""
    for commissioned, constituted in (("2021-12-15", "2024-01-01"), ("2024-01-25", "2024-06-01")):
        community = make_community(
            constituted=constituted,
            plants=[plant("p", pod(1), 100, commissioned, built_for_cer="doc")],
        )
        assert run(community, "2025-06-01", {pod(1): 10_000}, {pod(2): 10_000}).tip == 0
    edge = make_community(
        constituted="2024-06-01",
        plants=[plant("p", pod(1), 100, "2024-01-24", built_for_cer="doc")],
    )
    assert run(edge, "2025-06-01", {pod(1): 10_000}, {pod(2): 10_000}).tip == Fraction(12, 10)


# §5 the acconto of several months --------------------------------------------------------


def one_kw(configurations: int = 1) -> Community:
    """1 kW PV plants in Sicilia with a 10 % grant: F = 0.125, TIP_a = 100 × 0.875 = 87.5.
    A_ACI = 0.001 MW × 1100 h × 0.6 × 87.5 / 12 = 4.8125 €/month → paid 4.81;
    A_ACV = 0.66 MWh × 10.57 / 12 = 0.58135 €/month → paid 0.58."""
    pods_a = [pod(1), pod(2)]
    plants = [
        plant("a1", pod(1), 1, "2024-03-01", capital_grant_pct=10),
        plant("a2", pod(2), 1, "2024-03-01", capital_grant_pct=10),
    ]
    pods: list[object] = list(pods_a)
    if configurations == 2:
        pods.append({"pod": pod(3), "cabina_primaria": CABINA_B})
        plants.append(plant("b1", pod(3), 1, "2024-03-01", capital_grant_pct=10))
    return make_community(
        members=[member("comune", "municipality", pods), member("rossi", "person", [pod(9)])],
        plants=plants,
    )


def test_the_yearly_acconto_is_the_sum_of_twelve_rounded_months() -> None:
    community = make_community(plants=[plant("p", pod(1), 1, "2024-03-01", capital_grant_pct=10)])
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    # 12 × 4.81 = 57.72 € (not 12 × 4.8125 = 57.75); 12 × 0.58 = 6.96 € (not 6.9762 → 6.98)
    assert advances_of_months(community, months) == {CABINA_A: (5772, 696)}
    period = Period.parse("2025")
    energy = HourlyEnergy.from_rows([], period, [pod(1), pod(2)])
    result = settle(community, energy, flat_prices(period, "SICI", "130"), period)
    acconto = result.to_json_dict()["acconto"]
    assert acconto["tip_eur"] == "57.72" and acconto["valorisation_eur"] == "6.96"
    assert acconto["balance_tip_eur"] == "-57.72"  # nothing settled (no readings)
    assert acconto["months"] == 12


def test_the_monthly_acconto_shows_plant_lines_and_configuration_totals() -> None:
    advance = monthly_advance(one_kw(configurations=2), "2025-06")
    out = advance.to_json_dict()
    assert [p["tip_eur"] for p in out["plants"]] == ["4.81", "4.81", "4.81"]
    a, b = out["configurations"]
    # cabina A: 2 × 4.8125 = 9.625 → 9.63 (its plant lines add up to 9.62)
    assert a == {
        "cabina_primaria": CABINA_A,
        "plants": ["a1", "a2"],
        "tip_eur": "9.63",
        "valorisation_eur": "1.16",  # 2 × 0.58135 = 1.1627
    }
    assert (b["plants"], b["tip_eur"], b["valorisation_eur"]) == (["b1"], "4.81", "0.58")
    assert out["tip_eur"] == "14.44" and out["valorisation_eur"] == "1.74"
    assert "rounding" in out
    yearly = advances_of_months(one_kw(configurations=2), [f"2025-{m:02d}" for m in range(1, 7)])
    assert yearly == {CABINA_A: (6 * 963, 6 * 116), CABINA_B: (6 * 481, 6 * 58)}
