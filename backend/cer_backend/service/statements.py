"""A member's statement (PDF and CSV): only that member's data, and how the amount came about.

The statement names the member, its PODs and days of membership in the period, its withdrawn
and coincident (shared) energy by month, the hours its meters did not report and how they
were treated, the amount and its parts (consumers' quota, producers' quota, valorisation of
its plants, surplus earmark), and explains in plain words the statute's rule that produced it.
No other member's name or figure appears: community totals only where the rule needs them.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from ..i18n import N_, Language
from . import pdf
from .community_report import heading, member_type_label
from .pdf import text
from .report_model import MemberInfo, RunFacts, reconciliation

#: the parts of a member's amount (``members[].parts`` of a run), in the order shown
PARTS: Final = (
    ("consumers_eur", N_("consumers' quota (your coincident withdrawal)")),
    ("producers_eur", N_("producers' quota (your plants' incentivised energy)")),
    ("valorisation_eur", N_("valorisation of the energy of your plants")),
    ("surplus_eur", N_("surplus earmark (non-business consumers)")),
)


class StatementError(KeyError):
    """The member is not in the run."""


def member_entry(facts: RunFacts, member_id: str) -> dict[str, Any]:
    """The member's figures in the run (StatementError when absent)."""
    for member in facts.result.get("members") or []:
        if member["id"] == member_id:
            return dict(member)
    raise StatementError(member_id)


def member_of(facts: RunFacts, member_id: str) -> MemberInfo:
    """The member's registry entry (a bare one when the run's community file lacks it)."""
    return facts.members.get(member_id) or MemberInfo(member_id, member_id, "", [])


def member_missing(facts: RunFacts, member_id: str) -> list[dict[str, Any]]:
    """The missing readings of the member's own PODs."""
    pods = set(member_of(facts, member_id).pods)
    return [
        dict(item)
        for item in facts.result.get("missing_readings") or []
        if str(item.get("pod")) in pods
    ]


def member_months(facts: RunFacts, member_id: str) -> list[dict[str, Any]]:
    """The member's withdrawn and shared energy by month (empty for runs made before)."""
    return [dict(m) for m in (facts.result.get("member_months") or {}).get(member_id) or []]


def explanation(facts: RunFacts, lang: Language, member: dict[str, Any]) -> list[str]:
    """The statute's rule, in plain words, with this run's figures (one sentence a rule)."""
    _ = lang.gettext
    statute = facts.statute
    money = reconciliation(facts.result)
    lines = [
        _(
            "The GSE pays the community, not each member: an incentive (TIP) for the energy "
            "shared in each hour between the community's plants and its members, and a "
            "valorisation set by ARERA. For this period the community receives {income}."
        ).format(income=lang.eur(money.income))
    ]
    pct = statute.get("management_pct") or 0
    if pct:
        lines.append(
            _(
                "The statute keeps {pct} % of it for management and running costs ({amount})."
            ).format(pct=lang.number(Decimal(str(pct))), amount=lang.eur(money.management))
        )
    if statute.get("valorisation_to", "plant_owners") == "plant_owners":
        lines.append(
            _("The valorisation goes to the owners of the plants, in proportion to their energy.")
        )
    else:
        lines.append(_("The valorisation is shared among the members with the incentive."))
    for key, fund in (
        ("social_fund_pct", _("social fund")),
        ("investment_fund_pct", _("investment fund")),
    ):
        if statute.get(key):
            lines.append(
                _("{pct} % of what remains goes to the {fund}.").format(
                    pct=lang.number(Decimal(str(statute[key]))), fund=fund
                )
            )
    if Decimal(facts.result.get("surplus_earmarked_eur") or "0"):
        if statute.get("surplus_to", "non_business_consumers") == "social_fund":
            lines.append(_("The surplus earmark required by the rules goes to the social fund."))
        else:
            lines.append(
                _(
                    "The surplus earmark required by the rules goes to households and other "
                    "non-business consumers, in proportion to their consumption."
                )
            )
    if statute.get("producers_pct"):
        lines.append(
            _(
                "{pct} % of the rest goes to the plant owners, in proportion to their "
                "incentivised energy."
            ).format(pct=lang.number(Decimal(str(statute["producers_pct"]))))
        )
    consumers_by = statute.get("consumers_by", "coincident_withdrawal")
    shared_total = int(facts.result.get("shared_wh") or 0)
    own = int(member.get("shared_wh") or 0)
    if consumers_by == "coincident_withdrawal":
        share = Fraction(own, shared_total) if shared_total else Fraction(0)
        lines.append(
            _(
                "The rest is shared among the members in proportion to their coincident "
                "withdrawal: the energy each one withdrew in the hours when the community's "
                "plants were producing, up to the energy shared in that hour. Yours was {own} "
                "of the community's {total} ({share})."
            ).format(own=lang.kwh(own), total=lang.kwh(shared_total), share=lang.percent(share, 2))
        )
    elif consumers_by == "withdrawal":
        lines.append(
            _(
                "The rest is shared among the members in proportion to the energy each one "
                "withdrew from the grid: yours was {own}."
            ).format(own=lang.kwh(member.get("withdrawn_wh") or 0))
        )
    else:
        lines.append(
            _(
                "The rest is shared among the members in equal parts for each day of "
                "membership: you were a member for {days} days of the period."
            ).format(days=lang.number(member.get("membership_days") or 0))
        )
    return lines


def own_balance(facts: RunFacts, lang: Language, member_id: str) -> list[Any]:
    """A year run: what the final months already gave and the balance; a correction: the
    superseded amount and the difference (this member's line only)."""
    _ = lang.gettext
    sheet = pdf.styles()
    for key, template in (
        (
            "balances",
            _(
                "The final months of the year already gave you {before}: the balance of the "
                "year is {after}."
            ),
        ),
        (
            "differences",
            _(
                "The final run this correction replaces gave you {before}: the difference is "
                "{after}."
            ),
        ),
    ):
        for item in (facts.result.get(key) or {}).get("members") or []:
            if item.get("id") == member_id:
                before = item.get("final_months_eur") or item.get("final_eur") or "0"
                after = item.get("balance_eur") or item.get("difference_eur") or "0"
                line = template.format(before=lang.eur(before), after=lang.eur(after))
                return [Paragraph(text(line), sheet["Normal"])]
    return []


def statement_pdf(facts: RunFacts, member_id: str, lang: Language) -> bytes:
    """The member's statement, in ``lang``."""
    _ = lang.gettext
    sheet = pdf.styles()
    member = member_entry(facts, member_id)
    info = member_of(facts, member_id)
    story: list[Any] = heading(facts, lang, _("Statement of {name}").format(name=info.name))
    identity = [
        [_("member"), info.name],
        [_("type"), member_type_label(lang, info.type)],
    ]
    if info.tax_code:
        identity.append([_("tax code"), info.tax_code])
    identity += [
        [_("PODs"), ", ".join(info.pods) or "-"],
        [
            _("days of membership in the period"),
            lang.number(member.get("membership_days") or 0),
        ],
    ]
    story.append(pdf.table(identity, widths=[6 * cm, 11 * cm], header=False))
    story.append(Spacer(1, 0.3 * cm))
    amount = Decimal(member["amount_eur"])
    story.append(
        Paragraph(
            "<b>"
            + text(_("Your amount for the period: {amount}").format(amount=lang.eur(amount)))
            + "</b>",
            sheet["Heading2"],
        )
    )
    parts = member.get("parts") or {}
    rows = [[_("part of the amount"), _("euro")]]
    for key, label in PARTS:
        value = Decimal(parts.get(key) or "0")
        if value or key == "consumers_eur":
            rows.append([_(label), lang.eur(value)])
    rows.append([_("total"), lang.eur(amount)])
    story.append(pdf.table(rows, widths=[12 * cm, 5 * cm], total_rows=[len(rows) - 1]))
    story += own_balance(facts, lang, member_id)
    months = member_months(facts, member_id)
    story.append(Paragraph(text(_("Your energy by month")), sheet["Heading2"]))
    month_rows = [[_("month"), _("withdrawn"), _("shared (coincident)")]]
    for item in months:
        month_rows.append(
            [lang.month(item["month"]), lang.kwh(item["withdrawn_wh"]), lang.kwh(item["shared_wh"])]
        )
    month_rows.append(
        [
            _("total"),
            lang.kwh(member.get("withdrawn_wh") or 0),
            lang.kwh(member.get("shared_wh") or 0),
        ]
    )
    story.append(
        pdf.table(month_rows, widths=[7 * cm, 5 * cm, 5 * cm], total_rows=[len(month_rows) - 1])
    )
    if len(months) > 1:
        story.append(
            KeepTogether(
                [
                    pdf.bar_chart(
                        _("Your withdrawn and shared energy by month (kWh)"),
                        [lang.month_short(m["month"]) for m in months],
                        [
                            [m["withdrawn_wh"] / 1000 for m in months],
                            [m["shared_wh"] / 1000 for m in months],
                        ],
                        names=[_("withdrawn"), _("shared")],
                    )
                ]
            )
        )
    story.append(Paragraph(text(_("Hours without readings")), sheet["Heading2"]))
    missing = member_missing(facts, member_id)
    if missing:
        hours = sum(int(item.get("hours") or 0) for item in missing)
        story.append(
            Paragraph(
                text(
                    _(
                        "Your meters did not report {hours} hours in this period. In those hours "
                        "your withdrawal counts as zero: the hours are settled on the readings "
                        "present, so your share may be smaller than it should. When the "
                        "readings arrive, a correction run includes them."
                    ).format(hours=lang.number(hours))
                ),
                sheet["Normal"],
            )
        )
        gap_rows = [[_("POD"), _("hours missing"), _("from"), _("to")]]
        for item in missing:
            for first, last in (item.get("ranges") or [])[:10]:
                gap_rows.append(
                    [
                        str(item["pod"]),
                        lang.number(item.get("hours") or 0),
                        str(first)[:16].replace("T", " "),
                        str(last)[:16].replace("T", " "),
                    ]
                )
        story.append(pdf.table(gap_rows, widths=[4.5 * cm, 3 * cm, 4.75 * cm, 4.75 * cm]))
    else:
        story.append(Paragraph(text(_("Every hour of your PODs was reported.")), sheet["Normal"]))
    story.append(Paragraph(text(_("How your amount was computed")), sheet["Heading2"]))
    story += [Paragraph(text(line), sheet["Normal"]) for line in explanation(facts, lang, member)]
    title = _("Statement of {name}").format(name=info.name)
    return pdf.build(
        story,
        lang=lang,
        title=f"{title} {facts.period}",
        footer=f"{facts.community_name} · {lang.period(facts.period)} · {title}",
        draft=not facts.final,
    )


def csv_options(lang: Language) -> dict[str, str]:
    """CSV as the language's spreadsheets read it: ``;`` and a decimal comma in Italian."""
    return {"delimiter": ";" if lang.locale.language == "it" else ",", "lineterminator": "\r\n"}


def statement_csv(facts: RunFacts, member_id: str, lang: Language) -> str:
    """The member's statement as CSV: one row a month, then the total with the amount."""
    _ = lang.gettext
    member = member_entry(facts, member_id)
    info = member_of(facts, member_id)
    out = io.StringIO()
    writer = csv.writer(out, **csv_options(lang))  # type: ignore[arg-type]
    parts = member.get("parts") or {}
    writer.writerow(
        [
            _("community"),
            _("period"),
            _("run"),
            _("status"),
            _("member"),
            _("name"),
            _("tax code"),
            _("month"),
            _("withdrawn kWh"),
            _("shared kWh"),
            _("amount euro"),
            *(_(label) for _key, label in PARTS),
        ]
    )
    head = [
        facts.community_name,
        facts.period,
        facts.id,
        facts.status,
        info.id,
        info.name,
        info.tax_code or "",
    ]

    def kwh(wh: Any) -> str:
        return lang.plain_number(Fraction(int(wh), 1000), 3)

    for item in member_months(facts, member_id):
        writer.writerow(
            [
                *head,
                item["month"],
                kwh(item["withdrawn_wh"]),
                kwh(item["shared_wh"]),
                "",
                "",
                "",
                "",
                "",
            ]
        )
    writer.writerow(
        [
            *head,
            _("total"),
            kwh(member.get("withdrawn_wh") or 0),
            kwh(member.get("shared_wh") or 0),
            lang.plain_number(Decimal(member["amount_eur"])),
            *(lang.plain_number(Decimal(parts.get(key) or "0")) for key, _label in PARTS),
        ]
    )
    return out.getvalue()
