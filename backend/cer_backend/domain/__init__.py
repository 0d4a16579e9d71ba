"""Pure settlement engine: the GSE rules, no I/O, no framework.

Energy is integer Wh (numpy ``int64`` arrays), money is exact (:class:`fractions.Fraction` and
:class:`decimal.Decimal`), rounded half-up to the cent only where reported.

- :mod:`.errors` — ``Problem(path, message)``, ``InvalidInput(problems)``
- :mod:`.rules` — the GSE rules as data (regions and zones, bands, thresholds, member types)
- :mod:`.community` — ``parse_community(dict) -> Community`` (members, plants, statute)
- :mod:`.eligibility` — ``check_eligibility(community) -> list[Finding]``
- :mod:`.period` — ``Period.parse("2025" | "2025-06" | "2025-06-01")``, local hours
- :mod:`.energy` — ``HourlyEnergy`` (PODs × hours, Wh, presence mask)
- :mod:`.prices` — ``HourlyPrices`` (zone × hour, integer micro-€/MWh)
- :mod:`.tariff` — the TIP per plant and hour
- :mod:`.surplus` — the surplus earmark
- :mod:`.settlement` — ``settle(community, energy, prices, period) -> SettlementResult``
- :mod:`.distribution` — sharing by the statute, exact cents
- :mod:`.advance` — ``monthly_advance(community, month)``, the acconto
- :mod:`.projection` — ``parse_study``, ``project``: the feasibility study
- :mod:`.money` — rounding and largest remainder
"""
