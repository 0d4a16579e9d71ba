"""The council's annual report (PDF, two pages) of a year run.

Page one: the year in figures: members and plants, energy produced and shared, CO₂ avoided
(energy the plants injected × an emission factor, a community setting with its source),
the money the community is due and how it was distributed, the social fund. Page two: the
shared energy by month, members by type, plants.

The emission factor is ``settings.emission_factor_g_kwh`` (grams of CO₂ per kWh) with
``settings.emission_factor_source`` (who published it); without them, the default below.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, Final

from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, Spacer

from ..i18n import Language
from . import pdf
from .community_report import charts, completeness_box, heading, member_type_label
from .pdf import text
from .report_model import ReportError, RunFacts, completeness, reconciliation

#: default emission factor of the electricity the plants' energy replaces (g CO₂/kWh) and its
#: source; a community sets its own with ``settings.emission_factor_g_kwh`` / ``_source``
DEFAULT_EMISSION_FACTOR_G_KWH: Final = Decimal("257")
DEFAULT_EMISSION_SOURCE: Final = (
    "ISPRA, Efficiency and decarbonisation indicators of the national energy system and "
    "the power sector: emission factor of the national electricity production"
)


def emission_factor(facts: RunFacts, override: Decimal | None = None) -> tuple[Decimal, str]:
    """(g CO₂/kWh, source): the override, the community's setting, or the default."""
    settings = facts.settings
    if override is not None:
        return override, "cer-backend --emission-factor"
    value = settings.get("emission_factor_g_kwh")
    if value is not None:
        return Decimal(str(value)), str(settings.get("emission_factor_source") or "")
    return DEFAULT_EMISSION_FACTOR_G_KWH, DEFAULT_EMISSION_SOURCE


def co2_avoided_kg(injected_wh: int, factor_g_kwh: Decimal) -> Decimal:
    """CO₂ avoided: the energy the plants injected × the emission factor (Wh × g/kWh = mg)."""
    return Decimal(injected_wh) * factor_g_kwh / Decimal(1_000_000)


def council_report_pdf(
    facts: RunFacts, lang: Language, factor_override: Decimal | None = None
) -> bytes:
    """The council's annual report of a year run, in ``lang``."""
    _ = lang.gettext
    if facts.kind != "year" and len(facts.period) != 4:
        raise ReportError(422, f"the council's report is made from a year run, not {facts.period}")
    sheet = pdf.styles()
    result = facts.result
    money = reconciliation(result)
    factor, source = emission_factor(facts, factor_override)
    injected = int(result.get("injected_wh") or 0)
    shared = int(result.get("shared_wh") or 0)
    co2_kg = co2_avoided_kg(injected, factor)
    plants = result.get("plants") or []
    power = sum((Decimal(str(p.get("power_kw") or 0)) for p in plants), Decimal(0))
    members = result.get("members") or []
    title = _("Annual report to the council")
    story: list[Any] = heading(facts, lang, title)
    info = completeness({"result": result, "period": facts.period}, facts.document)
    story += completeness_box(facts, lang, info)
    story.append(Paragraph(text(_("The year in figures")), sheet["Heading2"]))
    share = Decimal(shared) / Decimal(injected) if injected else Decimal(0)
    story.append(
        pdf.table(
            [
                [_("members"), lang.number(len(members))],
                [
                    _("plants and their power"),
                    f"{lang.number(len(plants))} · {lang.number(power, 1)} kW",
                ],
                [_("energy injected by the plants"), lang.mwh(injected)],
                [_("energy shared among the members"), lang.mwh(shared)],
                [_("share of the injected energy used by the members"), lang.percent(share)],
                [
                    _("CO2 avoided"),
                    _("{tonnes} tonnes").format(tonnes=lang.number(co2_kg / 1000, 1)),
                ],
            ],
            widths=[11 * cm, 6 * cm],
            header=False,
        )
    )
    story.append(
        Paragraph(
            text(
                _(
                    "CO2 avoided: the energy the plants injected × an emission factor of "
                    "{factor} g CO2/kWh (source: {source})."
                ).format(factor=lang.number(factor, 1), source=source or _("not given"))
            ),
            sheet["Small"],
        )
    )
    story.append(Paragraph(text(_("Money received and distributed")), sheet["Heading2"]))
    advance = result.get("acconto") or {}
    rows = [
        [_("item"), _("euro")],
        [_("due from the GSE: TIP + valorisation"), lang.eur(money.income)],
    ]
    year = (facts.gse or {}).get("year") or {}
    if facts.gse:  # what the GSE actually paid, as recorded (gse import)
        received = facts.gse.get("received_eur") or year.get("received_eur") or "0"
        rows.append([_("received from the GSE"), lang.eur(received)])
        if year.get("balance_due_eur") is not None:
            rows.append(
                [
                    _("balance still due from the GSE (net of fees)"),
                    lang.eur(year["balance_due_eur"]),
                ]
            )
    elif advance:  # nothing recorded: what the acconto rules make us expect
        expected = Decimal(advance.get("tip_eur") or "0") + Decimal(
            advance.get("valorisation_eur") or "0"
        )
        rows += [
            [_("acconto expected for the months of the year"), lang.eur(expected)],
            [_("balance expected at the yearly true-up"), lang.eur(money.income - expected)],
        ]
    story.append(pdf.table(rows, widths=[11 * cm, 6 * cm]))
    story.append(Spacer(1, 0.2 * cm))
    rows = [
        [_("how it is distributed"), _("euro")],
        [_("management and running costs"), lang.eur(money.management)],
        [_("social fund"), lang.eur(money.social_fund)],
        [_("investment fund"), lang.eur(money.investment_fund)],
        [_("distributed to the members"), lang.eur(money.members_total)],
        [_("= distributed"), lang.eur(money.distributed)],
    ]
    story.append(pdf.table(rows, widths=[11 * cm, 6 * cm], total_rows=[len(rows) - 1]))
    surplus = Decimal(result.get("surplus_earmarked_eur") or "0")
    story.append(
        Paragraph(
            text(
                _(
                    "Social fund: {social} set aside this year for the community's social "
                    "purposes; the surplus earmark required by the rules is {surplus}."
                ).format(social=lang.eur(money.social_fund), surplus=lang.eur(surplus))
            ),
            sheet["Normal"],
        )
    )
    story.append(PageBreak())
    story.append(Paragraph(text(_("Shared energy through the year")), sheet["Heading2"]))
    story += charts(facts, lang)[:1]
    story.append(Paragraph(text(_("Members by type")), sheet["Heading2"]))
    types = Counter(
        (facts.members[m["id"]].type if m["id"] in facts.members else "") for m in members
    )
    amounts: dict[str, Decimal] = {}
    for m in members:
        kind = facts.members[m["id"]].type if m["id"] in facts.members else ""
        amounts[kind] = amounts.get(kind, Decimal(0)) + Decimal(m["amount_eur"])
    rows = [[_("type"), _("members"), _("amount")]]
    for kind, count in types.most_common():
        rows.append([member_type_label(lang, kind), lang.number(count), lang.eur(amounts[kind])])
    story.append(pdf.table(rows, widths=[8 * cm, 4 * cm, 5 * cm]))
    story.append(Paragraph(text(_("Plants")), sheet["Heading2"]))
    rows = [[_("plant"), _("owner"), _("kW"), _("injected"), _("shared")]]
    for plant in plants:
        rows.append(
            [
                str(plant["id"]),
                facts.member_name(str(plant.get("owner", "")))[:30],
                lang.number(Decimal(str(plant.get("power_kw") or 0)), 1),
                lang.mwh(plant.get("injected_wh") or 0),
                lang.mwh(plant.get("allocated_wh") or 0),
            ]
        )
    story.append(
        pdf.table(rows, widths=[3.5 * cm, 5.5 * cm, 2 * cm, 3 * cm, 3 * cm], text_columns=2)
    )
    story.append(Spacer(1, 0.2 * cm))
    return pdf.build(
        story,
        lang=lang,
        title=f"{title} {facts.community_name} {facts.period}",
        footer=f"{facts.community_name} · {lang.period(facts.period)} · {title}",
        draft=not facts.final,
    )
