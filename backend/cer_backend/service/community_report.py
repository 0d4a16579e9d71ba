"""The community report of a settlement run (PDF): what the council reads.

Page one: the community by name, the period, the run's kind and status, the completeness of
its data when under 100 % (and a forced finalise with its reason), the energy, and the money
as a reconciliation that adds up to the cent on the page:
TIP + valorisation = management + funds + members' total. Then the surplus earmark and who
received it, RID and GSE fees apart (they are not the community's income), the acconto and
the balance, the GSE's figures when known; energy per configuration, the charts, members and
plants.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer

from ..i18n import N_, Language
from . import pdf
from .pdf import text
from .report_model import (
    Completeness,
    RunFacts,
    completeness,
    configurations,
    reconciliation,
    surplus_recipients,
)
from .report_notes import translate_notes

#: how a run's kind and status read in the reports
KIND_LABELS: Final = {
    "month": N_("monthly settlement"),
    "year": N_("yearly settlement"),
    "correction": N_("correction"),
    "day": N_("daily view"),
}
STATUS_LABELS: Final = {"final": N_("final"), "draft": N_("draft, not final")}
MEMBER_TYPES: Final = {
    "person": N_("household"),
    "sme": N_("small business"),
    "association": N_("association"),
    "municipality": N_("municipality"),
    "public_body": N_("public body"),
    "religious": N_("religious body"),
    "third_sector": N_("third-sector body"),
    "environmental": N_("environmental body"),
    "research": N_("research body"),
}
#: where readings come from (``readings_by_source`` of a run)
SOURCE_LABELS: Final = {
    "dso": N_("distributor's meters"),
    "ha": N_("Home Assistant"),
    "manual": N_("entered by hand"),
    "estimate": N_("estimates"),
}
#: how many members the chart of shares shows (the largest)
CHART_MEMBERS: Final = 15


def kind_label(lang: Language, kind: str) -> str:
    """The run kind in words."""
    return lang.gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def status_label(lang: Language, status: str) -> str:
    """The run status in words."""
    return lang.gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def source_label(lang: Language, source: str) -> str:
    """A source of readings in words."""
    return lang.gettext(SOURCE_LABELS[source]) if source in SOURCE_LABELS else source


def member_type_label(lang: Language, member_type: str) -> str:
    """A member type in words."""
    return lang.gettext(MEMBER_TYPES[member_type]) if member_type in MEMBER_TYPES else member_type


def heading(facts: RunFacts, lang: Language, title: str) -> list[Any]:
    """Title, community, period, kind and status, run."""
    _ = lang.gettext
    sheet = pdf.styles()
    created = facts.created_at[:10]
    run_line = _("Run {run} of {date}").format(
        run=facts.id[:8], date=lang.date(created) if created else ""
    )
    if facts.final and facts.finalised_at:
        run_line += " · " + _("finalised on {date}").format(date=lang.date(facts.finalised_at[:10]))
    return [
        Paragraph(text(title), sheet["Title"]),
        Paragraph(
            f"<b>{text(facts.community_name)}</b> · {text(lang.period(facts.period))} · "
            f"{text(kind_label(lang, facts.kind))} · "
            f"<b>{text(status_label(lang, facts.status))}</b>",
            sheet["Normal"],
        ),
        Paragraph(text(run_line), sheet["Small"]),
        Spacer(1, 0.3 * cm),
    ]


def completeness_box(facts: RunFacts, lang: Language, info: Completeness) -> list[Any]:
    """The completeness warning (page one) when data are missing, and a forced finalise."""
    _ = lang.gettext
    sheet = pdf.styles()
    out: list[Any] = []
    if not info.complete:
        lines = [
            Paragraph(
                "<b>"
                + text(
                    _("Incomplete data: coverage {coverage} of the expected readings").format(
                        coverage=lang.coverage(info.coverage)
                    )
                )
                + "</b>",
                sheet["Warning"],
            ),
            Paragraph(
                text(
                    _(
                        "{pods} PODs without readings for {hours} POD-hours in total; "
                        "{prices} hours without a market price."
                    ).format(
                        pods=lang.number(len(info.missing_by_pod)),
                        hours=lang.number(info.missing_pod_hours),
                        prices=lang.number(info.missing_price_hours),
                    )
                ),
                sheet["Warning"],
            ),
            Paragraph(
                text(
                    _(
                        "Hours without readings are settled on the readings present: the "
                        "figures of this report may grow when the missing data arrive."
                    )
                ),
                sheet["Warning"],
            ),
        ]
        if any(info.sources.values()):
            sources = ", ".join(
                f"{source_label(lang, name)}: {lang.number(count)}"
                for name, count in sorted(info.sources.items())
                if count
            )
            lines.append(
                Paragraph(
                    text(
                        _("Sources of the readings (POD-hours): {sources}").format(sources=sources)
                    ),
                    sheet["Warning"],
                )
            )
        out += [pdf.box(lines), Spacer(1, 0.25 * cm)]
    if facts.final and facts.late_readings:
        late = _(
            "{count} readings of this period arrived after it was finalised: this report does "
            "not include them; a correction run can."
        ).format(count=lang.number(facts.late_readings))
        out += [pdf.box([Paragraph(text(late), sheet["Warning"])]), Spacer(1, 0.25 * cm)]
    if facts.forced_reason:
        out += [
            pdf.box(
                [
                    Paragraph(
                        "<b>"
                        + text(_("Finalised by force despite the checks. Reason given:"))
                        + "</b> "
                        + text(facts.forced_reason),
                        sheet["Warning"],
                    )
                ]
            ),
            Spacer(1, 0.25 * cm),
        ]
    return out


def energy_table(facts: RunFacts, lang: Language) -> Any:
    """Injected, withdrawn, shared and incentivised energy of the period."""
    _ = lang.gettext
    result = facts.result
    return pdf.table(
        [
            [_("Energy of the period"), ""],
            [_("injected by the plants"), lang.kwh(result.get("injected_wh", 0))],
            [_("withdrawn by the members"), lang.kwh(result.get("withdrawn_wh", 0))],
            [_("shared (hourly minimum of the two)"), lang.kwh(result.get("shared_wh", 0))],
            [_("incentivised (entitled to the TIP)"), lang.kwh(result.get("incentivised_wh", 0))],
        ],
        widths=[11 * cm, 6 * cm],
    )


def reconciliation_rows(facts: RunFacts, lang: Language) -> tuple[list[list[str]], list[int]]:
    """The reconciliation as table rows, and the indexes of its total rows."""
    _ = lang.gettext
    money = reconciliation(facts.result)
    statute = facts.statute
    management_pct = statute.get("management_pct", 0)
    rows = [
        [_("Money of the period"), _("euro")],
        [_("TIP, incentive on the shared energy (GSE)"), lang.eur(money.tip)],
        [_("valorisation of the shared energy (ARERA)"), lang.eur(money.valorisation)],
        [_("= income of the community"), lang.eur(money.income)],
        [
            _("management and running costs ({pct} %)").format(
                pct=lang.number(Decimal(str(management_pct)), 0)
            ),
            lang.eur(money.management),
        ],
        [_("social fund"), lang.eur(money.social_fund)],
        [_("investment fund"), lang.eur(money.investment_fund)],
        [
            _("members' total ({count} members)").format(
                count=lang.number(len(facts.result.get("members") or []))
            ),
            lang.eur(money.members_total),
        ],
        [_("= distributed"), lang.eur(money.distributed)],
    ]
    return rows, [3, 8]


def money_section(facts: RunFacts, lang: Language) -> list[Any]:
    """Reconciliation, surplus earmark, RID and fees, acconto and GSE figures."""
    _ = lang.gettext
    sheet = pdf.styles()
    result = facts.result
    money = reconciliation(result)
    rows, totals = reconciliation_rows(facts, lang)
    out: list[Any] = [pdf.table(rows, widths=[11 * cm, 6 * cm], total_rows=totals)]
    if money.balanced:
        check = _("Income and distribution agree to the cent.")
    else:
        check = _("Income and distribution differ by {difference}: check the run.").format(
            difference=lang.eur(money.income - money.distributed)
        )
    out.append(Paragraph(text(check), sheet["Small"]))
    surplus = Decimal(result.get("surplus_earmarked_eur") or "0")
    if surplus:
        recipients = surplus_recipients(result)
        if recipients:
            names = ", ".join(
                f"{facts.member_name(mid)} ({lang.eur(part)})" for mid, part in recipients
            )
            line = _(
                "Surplus earmark (C_ecc) of {amount}, part of the members' total, received by: "
                "{names}."
            ).format(amount=lang.eur(surplus), names=names)
        else:
            line = _(
                "Surplus earmark (C_ecc) of {amount}, kept in the social fund as the statute says."
            ).format(amount=lang.eur(surplus))
        out.append(Paragraph(text(line), sheet["Normal"]))
    out.append(Spacer(1, 0.2 * cm))
    outside = [
        [_("Outside the community's income"), _("euro")],
        [
            _("RID: sale of the injected energy, paid by the GSE to each plant's owner"),
            lang.eur(result.get("rid_eur") or "0"),
        ],
        [_("GSE fees withheld from the payments"), lang.eur(result.get("gse_fees_eur") or "0")],
    ]
    out.append(pdf.table(outside, widths=[11 * cm, 6 * cm]))
    advance = result.get("acconto")
    if isinstance(advance, dict) and advance:
        out.append(Spacer(1, 0.2 * cm))
        out.append(
            pdf.table(
                [
                    [_("GSE acconto and balance"), _("TIP"), _("valorisation")],
                    [
                        _("acconto (monthly advances of the period)"),
                        lang.eur(advance.get("tip_eur") or "0"),
                        lang.eur(advance.get("valorisation_eur") or "0"),
                    ],
                    [
                        _("balance due at the yearly true-up"),
                        lang.eur(advance.get("balance_tip_eur") or "0"),
                        lang.eur(advance.get("balance_valorisation_eur") or "0"),
                    ],
                ],
                widths=[9 * cm, 4 * cm, 4 * cm],
            )
        )
    out += gse_section(facts, lang)
    return out


#: the figures of a GSE conguaglio set against ours: label, and whether it is energy (Wh)
GSE_FIGURES: Final = {
    "shared_wh": (N_("shared energy"), True),
    "incentivised_wh": (N_("incentivised energy"), True),
    "tip_eur": (N_("TIP"), False),
    "valorisation_eur": (N_("valorisation"), False),
}


def gse_section(facts: RunFacts, lang: Language) -> list[Any]:
    """What the GSE paid (acconti, conguaglio, fees), received in total, the balance still
    due, and a conguaglio's figures against ours (differences over 1 % and 5 € flagged)."""
    _ = lang.gettext
    gse = facts.gse
    if not gse:
        return []
    sheet = pdf.styles()
    rows = [[_("GSE payments"), _("period"), _("date"), _("amount")]]
    for payment in gse.get("payments") or []:
        amount = payment.get("amount_eur")
        rows.append(
            [
                f"{payment.get('tipo', '')} {payment.get('configuration', '')}".strip(),
                lang.period(str(payment.get("period", ""))),
                lang.date(payment["date"]) if payment.get("date") else "",
                lang.eur(amount) if amount else "",
            ]
        )
    year = gse.get("year") or {}
    received = year.get("received_eur") or gse.get("received_eur") or "0"
    rows.append([_("received from the GSE"), "", "", lang.eur(received)])
    totals = [len(rows) - 1]
    if year.get("balance_due_eur") is not None:
        due = lang.eur(year["balance_due_eur"])
        rows.append([_("balance still due from the GSE (net of fees)"), "", "", due])
        totals.append(len(rows) - 1)
    out: list[Any] = [
        Spacer(1, 0.2 * cm),
        pdf.table(rows, widths=[6 * cm, 3.5 * cm, 4 * cm, 3.5 * cm], total_rows=totals),
    ]
    for item in year.get("conguaglio") or []:
        compare = [[_("GSE conguaglio against our figures"), _("ours"), _("GSE"), _("difference")]]
        for difference in item.get("differences") or []:
            label, energy = GSE_FIGURES.get(difference["figure"], (difference["figure"], False))
            show = lang.kwh if energy else lang.eur
            mark = " " + _("(to check)") if difference.get("flagged") else ""
            compare.append(
                [
                    _(label) + mark,
                    show(difference["ours"]),
                    show(difference["gse"]),
                    show(difference["difference"]),
                ]
            )
        widths = [6 * cm, 3.7 * cm, 3.7 * cm, 3.6 * cm]
        out += [Spacer(1, 0.2 * cm), pdf.table(compare, widths=widths)]
        if item.get("causes"):
            causes = "; ".join(str(c) for c in item["causes"])
            line = _("Likely causes: {causes}").format(causes=causes)
            out.append(Paragraph(text(line), sheet["Small"]))
    return out


def configuration_table(facts: RunFacts, lang: Language) -> Any:
    """Energy and money per configuration (cabina primaria) and in total."""
    _ = lang.gettext
    items = configurations(facts.result, facts.document)
    rows = [
        [
            _("configuration (cabina primaria)"),
            _("shared"),
            _("incentivised"),
            _("TIP"),
            _("valorisation"),
        ]
    ]
    for item in items:
        rows.append(
            [
                str(item.get("cabina_primaria", "")),
                lang.kwh(item.get("shared_wh", 0)),
                lang.kwh(item.get("incentivised_wh", 0)),
                lang.eur(item.get("tip_eur") or "0"),
                lang.eur(item.get("valorisation_eur") or "0"),
            ]
        )
    result = facts.result
    rows.append(
        [
            _("total"),
            lang.kwh(result.get("shared_wh", 0)),
            lang.kwh(result.get("incentivised_wh", 0)),
            lang.eur(result.get("tip_eur") or "0"),
            lang.eur(result.get("valorisation_eur") or "0"),
        ]
    )
    return pdf.table(
        rows, widths=[5 * cm, 3.2 * cm, 3.2 * cm, 2.8 * cm, 2.8 * cm], total_rows=[len(rows) - 1]
    )


def charts(facts: RunFacts, lang: Language) -> list[Any]:
    """Shared energy by month (or day), injected against withdrawn, the members' shares."""
    _ = lang.gettext
    out: list[Any] = []
    months = facts.result.get("months") or []
    by_day = facts.profile.get("shared_wh_by_day") or {}
    if len(months) > 1 or not by_day:
        out.append(
            pdf.bar_chart(
                _("Shared energy by month (kWh)"),
                [lang.month_short(m["month"]) for m in months],
                [[int(m["shared_wh"]) / 1000 for m in months]],
            )
        )
    else:
        out.append(
            pdf.bar_chart(
                _("Shared energy by day (kWh)"),
                [str(int(day[8:10])) for day in by_day],
                [[int(v) / 1000 for v in by_day.values()]],
            )
        )
    if months:
        out.append(
            pdf.bar_chart(
                _("Injected and withdrawn energy by month (kWh)"),
                [lang.month_short(m["month"]) for m in months],
                [
                    [int(m["injected_wh"]) / 1000 for m in months],
                    [int(m["withdrawn_wh"]) / 1000 for m in months],
                ],
                names=[_("injected"), _("withdrawn")],
            )
        )
    members = sorted(facts.result.get("members") or [], key=lambda m: -Decimal(m["amount_eur"]))[
        :CHART_MEMBERS
    ]
    if members:
        out.append(
            pdf.horizontal_chart(
                _("Members' shares (euro)"),
                [facts.member_name(m["id"])[:32] for m in members],
                [float(Decimal(m["amount_eur"])) for m in members],
            )
        )
    return out


def members_table(facts: RunFacts, lang: Language) -> Any:
    """Each member: name, type, days, shared energy, amount; the total row."""
    _ = lang.gettext
    rows = [[_("member"), _("type"), _("days"), _("shared"), _("amount")]]
    total = Decimal(0)
    for member in facts.result.get("members") or []:
        info = facts.members.get(member["id"])
        amount = Decimal(member["amount_eur"])
        total += amount
        rows.append(
            [
                facts.member_name(member["id"])[:40],
                member_type_label(lang, info.type if info else ""),
                lang.number(member.get("membership_days", 0)),
                lang.kwh(member.get("shared_wh", 0)),
                lang.eur(amount),
            ]
        )
    rows.append(
        [_("members' total"), "", "", lang.kwh(facts.result.get("shared_wh", 0)), lang.eur(total)]
    )
    return pdf.table(
        rows,
        widths=[6.2 * cm, 3.4 * cm, 1.4 * cm, 3 * cm, 3 * cm],
        total_rows=[len(rows) - 1],
        text_columns=2,
    )


def plants_table(facts: RunFacts, lang: Language) -> Any:
    """Each plant: owner, power, allocated and incentivised energy, TIP, valorisation."""
    _ = lang.gettext
    rows = [[_("plant"), _("owner"), _("kW"), _("shared"), _("TIP"), _("valorisation")]]
    for plant in facts.result.get("plants") or []:
        rows.append(
            [
                str(plant["id"]),
                facts.member_name(str(plant.get("owner", "")))[:28],
                lang.number(Decimal(str(plant.get("power_kw", 0))), 1),
                lang.kwh(plant.get("allocated_wh", 0)),
                lang.eur(plant.get("tip_eur") or "0"),
                lang.eur(plant.get("valorisation_eur") or "0"),
            ]
        )
    return pdf.table(
        rows, widths=[3.2 * cm, 4.4 * cm, 1.4 * cm, 3 * cm, 2.5 * cm, 2.5 * cm], text_columns=2
    )


def balances_section(facts: RunFacts, lang: Language) -> list[Any]:
    """A year run: per member, the year, the final months already given, the balance; a
    correction: per member, the superseded final, the correction and the difference."""
    _ = lang.gettext
    sheet = pdf.styles()
    out: list[Any] = []
    given = facts.result.get("balances") or {}
    # a year with no final month has nothing to balance: the table would repeat the amounts
    balances = (given.get("members") or []) if given.get("final_months", True) else []
    if balances:
        rows = [[_("member"), _("year"), _("final months"), _("balance")]]
        rows += [
            [
                facts.member_name(str(m["id"]))[:40],
                lang.eur(m["year_eur"]),
                lang.eur(m["final_months_eur"]),
                lang.eur(m["balance_eur"]),
            ]
            for m in balances
        ]
        out += [
            Paragraph(text(_("Balance of the year against the final months")), sheet["Heading2"]),
            pdf.table(rows, widths=[7 * cm, 3.3 * cm, 3.4 * cm, 3.3 * cm]),
        ]
    differences = (facts.result.get("differences") or {}).get("members") or []
    if differences:
        rows = [[_("member"), _("superseded final"), _("correction"), _("difference")]]
        rows += [
            [
                facts.member_name(str(m["id"]))[:40],
                lang.eur(m["final_eur"]),
                lang.eur(m["correction_eur"]),
                lang.eur(m["difference_eur"]),
            ]
            for m in differences
        ]
        out += [
            Paragraph(text(_("Differences from the superseded final run")), sheet["Heading2"]),
            pdf.table(rows, widths=[7 * cm, 3.3 * cm, 3.4 * cm, 3.3 * cm]),
        ]
    return out


def missing_table(facts: RunFacts, lang: Language, info: Completeness) -> list[Any]:
    """PODs with missing hours: whose, how many, from when to when."""
    _ = lang.gettext
    if not info.missing_by_pod:
        return []
    owner = {pod: m.name for m in facts.members.values() for pod in m.pods}
    rows = [[_("POD"), _("member"), _("hours missing"), _("first missing hour")]]
    for pod, item in sorted(info.missing_by_pod.items()):
        ranges = item.get("ranges") or []
        first = str(ranges[0][0])[:16].replace("T", " ") if ranges else ""
        rows.append([pod, owner.get(pod, "")[:30], lang.number(item.get("hours", 0)), first])
    sheet = pdf.styles()
    return [
        Paragraph(text(_("Missing readings")), sheet["Heading2"]),
        pdf.table(rows, widths=[4 * cm, 6 * cm, 3 * cm, 4 * cm], text_columns=2),
    ]


def community_report_pdf(facts: RunFacts, lang: Language) -> bytes:
    """The community report of a run, in ``lang``."""
    _ = lang.gettext
    sheet = pdf.styles()
    info = completeness({"result": facts.result, "period": facts.period}, facts.document)
    story: list[Any] = heading(facts, lang, _("Community energy report"))
    story += completeness_box(facts, lang, info)
    story.append(energy_table(facts, lang))
    story.append(Spacer(1, 0.3 * cm))
    story += money_section(facts, lang)
    story.append(CondPageBreak(8 * cm))
    story.append(Paragraph(text(_("Energy per configuration")), sheet["Heading2"]))
    story.append(configuration_table(facts, lang))
    story.append(Paragraph(text(_("Charts")), sheet["Heading2"]))
    story += [KeepTogether([chart]) for chart in charts(facts, lang)]
    story.append(Paragraph(text(_("Members")), sheet["Heading2"]))
    story.append(members_table(facts, lang))
    story += balances_section(facts, lang)
    story.append(Paragraph(text(_("Plants")), sheet["Heading2"]))
    story.append(plants_table(facts, lang))
    story += missing_table(facts, lang, info)
    notes = list(facts.result.get("warnings") or []) + list(facts.result.get("errors") or [])
    if notes:
        story.append(Paragraph(text(_("Notes of the settlement engine")), sheet["Heading2"]))
        story += [Paragraph(text(note), sheet["Small"]) for note in translate_notes(notes, lang)]
    title = _("Community energy report")
    footer = f"{facts.community_name} · {lang.period(facts.period)} · {title}"
    return pdf.build(
        story,
        lang=lang,
        title=f"{title} {facts.community_name} {facts.period}",
        footer=footer,
        draft=not facts.final,
    )
