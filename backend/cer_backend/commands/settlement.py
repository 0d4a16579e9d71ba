"""``cer-backend settle | check | acconto | project``: the offline settlement from files.

Bad input of any kind exits 2 with one line per problem naming the file and the line or path;
a community that breaks a GSE rule makes ``check`` exit 1; a settlement with errors (a missing
price for an hour with shared energy, a missing CU_Afa) prints its result and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..domain.advance import ROUNDING_NOTE, monthly_advance
from ..domain.eligibility import check_eligibility, configurations, has_errors
from ..domain.errors import InvalidInput
from ..domain.money import eur
from ..domain.period import Period
from ..domain.projection import project
from ..domain.settlement import SettlementOptions, SettlementResult, settle
from ..files import load_community, load_prices, load_readings, load_study
from ..files.outputs import write_settlement_csv
from ..wording import counted

Handler = Callable[[argparse.Namespace], int]


INTERNAL_ERROR = 70  # EX_SOFTWARE


def _reporting_invalid(handler: Handler) -> Handler:
    """Print an InvalidInput as one line per problem and exit 2 (never a traceback).

    Anything unexpected is one line too (exit 70); ``-v`` shows the traceback.
    """

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except InvalidInput as err:
            for problem in err.problems:
                print(f"cer-backend: error: {problem}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:
            if getattr(args, "verbose", False):
                raise
            print(
                f"cer-backend: internal error: {type(err).__name__}: {err} "
                "(run with -v for the traceback)",
                file=sys.stderr,
            )
            return INTERNAL_ERROR

    return run


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _kwh(wh: int) -> str:
    return f"{wh / 1000:,.3f} kWh".replace(",", " ")


# settle -------------------------------------------------------------------------------


def _settle(args: argparse.Namespace) -> int:
    community = load_community(args.community)
    period = Period.parse(args.period, community.timezone)
    energy = load_readings(args.readings, community, period)
    prices = load_prices(args.prices, quarter_hours=args.quarter_hours)  # GME days are Italian
    options = SettlementOptions(f_exemption=args.f_exemption)
    result = settle(community, energy, prices, period, options)
    if args.out:
        try:
            write_settlement_csv(result, args.out)
        except OSError as err:
            raise InvalidInput.single(str(args.out), f"cannot write: {err.strerror}") from err
    if args.json:
        _print_json(result.to_json_dict())
    else:
        _print_summary(community.name, result)
    return 1 if result.errors else 0


def _print_summary(name: str, result: SettlementResult) -> None:
    out = sys.stdout
    dist = result.distribution
    print(f"{name}: settlement of {result.period} ({result.hours} hours)", file=out)
    print(
        f"  injected {_kwh(result.injected_wh)}, withdrawn {_kwh(result.withdrawn_wh)}, "
        f"shared {_kwh(result.shared_wh)}, incentivised {_kwh(result.incentivised_wh)}",
        file=out,
    )
    print(
        f"  TIP {eur(result.tip)} €, valorisation {eur(result.valorisation)} €, "
        f"surplus earmarked {eur(result.surplus_earmarked)} €",
        file=out,
    )
    print(f"  RID {eur(result.rid)} €, GSE fees {eur(result.gse_fees)} €", file=out)
    print(
        f"  to share {eur(Fraction(dist.total_cents, 100))} €: management "
        f"{eur(Fraction(dist.management_cents, 100))} €, social fund "
        f"{eur(Fraction(dist.social_fund_cents, 100))} €, investment fund "
        f"{eur(Fraction(dist.investment_fund_cents, 100))} €",
        file=out,
    )
    for conf in result.configurations:
        print(
            f"  configuration {conf.cabina_primaria}: shared {_kwh(conf.shared_wh)}, "
            f"TIP {eur(conf.tip)} €, valorisation {eur(conf.valorisation)} €",
            file=out,
        )
    print("  plants (first in):", file=out)
    for p in result.plants:
        print(
            f"    {p.id:<24} {p.power_kw:>7} kW  allocated {_kwh(p.allocated_wh):>16}  "
            f"incentivised {_kwh(p.incentivised_wh):>16}  TIP {eur(p.tip):>10} €",
            file=out,
        )
    print("  members:", file=out)
    for m in result.members:
        print(
            f"    {m.id:<24} shared {_kwh(m.shared_wh):>16}  "
            f"amount {eur(Fraction(m.amount_cents, 100)):>10} €",
            file=out,
        )
    for text in result.warnings:
        print(f"  warning: {text}", file=out)
    for text in result.errors:
        print(f"  error: {text}", file=out)


# check --------------------------------------------------------------------------------


def _refuse_study_file(path: str) -> None:
    """A study file given where a community file is expected: say so in one line."""
    try:
        head = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return  # load_community reports it
    keys = {line.split(":", 1)[0] for line in head.splitlines() if line[:1].isalpha()}
    if "study" in keys and "community" not in keys:
        raise InvalidInput.single(
            "", f"{path} is a study file (for cer-backend project --study), not a community file"
        )


def _check(args: argparse.Namespace) -> int:
    _refuse_study_file(args.community)
    community = load_community(args.community)
    findings = check_eligibility(community)
    found = configurations(community)
    if args.json:
        _print_json(
            {
                "community": community.name,
                "configurations": [c.to_json_dict() for c in found],
                "errors": [f.to_json_dict() for f in findings if f.level == "error"],
                "warnings": [f.to_json_dict() for f in findings if f.level == "warning"],
            }
        )
    else:
        for conf in found:
            print(
                f"{community.name}: configuration {conf.cabina_primaria}: "
                f"{len(conf.pods)} consumption points, {len(conf.plants)} plants"
                + (f" ({', '.join(conf.plants)})" if conf.plants else "")
            )
        for finding in findings:
            print(f"{args.community}: {finding}")
        errors = sum(1 for f in findings if f.level == "error")
        print(
            f"{community.name}: {counted(errors, 'error')}, "
            f"{counted(len(findings) - errors, 'warning')}"
        )
    return 1 if has_errors(findings) else 0


# acconto ------------------------------------------------------------------------------


def _acconto(args: argparse.Namespace) -> int:
    community = load_community(args.community)
    period = Period.parse(args.month, community.timezone)
    if period.kind != "month":
        raise InvalidInput.single("--month", f"{args.month!r} is not a month (YYYY-MM)")
    advance = monthly_advance(community, period)
    if args.json:
        _print_json(advance.to_json_dict())
        return 0
    print(f"{community.name}: acconto of {advance.month}")
    lines = {p.id: p for p in advance.plants}
    for conf in advance.configurations:
        print(f"  configuration {conf.cabina_primaria}:")
        for plant_id in (p.id for p in conf.plants):
            plant = lines[plant_id]
            print(
                f"    {plant.id:<22} TIP {eur(plant.tip):>10} €  valorisation "
                f"{eur(plant.valorisation):>10} €"
            )
        print(
            f"    {'configuration total':<22} TIP {eur(Fraction(conf.tip_cents, 100)):>10} €  "
            f"valorisation {eur(Fraction(conf.valorisation_cents, 100)):>10} €"
        )
    print(
        f"  total TIP {eur(Fraction(advance.tip_cents, 100))} €, valorisation "
        f"{eur(Fraction(advance.valorisation_cents, 100))} €"
    )
    print(f"  note: {ROUNDING_NOTE}")
    for text in advance.warnings:
        print(f"  warning: {text}")
    return 0


# project ------------------------------------------------------------------------------


def _project(args: argparse.Namespace) -> int:
    study = load_study(args.study)
    if args.years is not None and not 1 <= args.years <= 60:
        raise InvalidInput.single("--years", "must be between 1 and 60")
    projection = project(study, args.years)
    data = projection.to_json_dict()
    if args.json:
        _print_json(data)
        return 0
    print(
        f"{'year':>4} {'produced kWh':>13} {'shared kWh':>11} {'TIP €':>11} "
        f"{'valoris. €':>11} {'RID €':>11} {'savings €':>11} {'present value €':>16}"
    )
    for row in [*data["years"], {"year": "all", **data["totals"]}]:
        print(
            f"{row['year']:>4} {row['produced_kwh']:>13} {row['shared_kwh']:>11} "
            f"{row['tip_eur']:>11} {row['valorisation_eur']:>11} {row['rid_eur']:>11} "
            f"{row['savings_eur']:>11} {row['present_value_eur']:>16}"
        )
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``settle``, ``check``, ``acconto`` and ``project``."""
    parser = commands.add_parser(
        "settle", help="settle a period from files (community, readings, prices)"
    )
    parser.add_argument("--community", required=True, metavar="FILE", help="community YAML")
    parser.add_argument("--readings", required=True, metavar="FILE", help="readings CSV")
    parser.add_argument(
        "--prices", required=True, metavar="PATH", help="GME XML/XLSX or CSV file, or a folder"
    )
    parser.add_argument("--period", required=True, help="YYYY, YYYY-MM or YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", metavar="DIR", help="write hourly/plant/member/month CSVs")
    parser.add_argument(
        "--quarter-hours",
        choices=("mean", "reject"),
        default="mean",
        help="15-minute prices: hourly mean (default) or refuse them",
    )
    parser.add_argument(
        "--f-exemption",
        choices=("withdrawal_share", "none"),
        default="withdrawal_share",
        help="how the energy exempt from F is measured (default withdrawal_share)",
    )
    parser.set_defaults(handler=_reporting_invalid(_settle))

    parser = commands.add_parser("check", help="eligibility report of a community file")
    parser.add_argument("--community", required=True, metavar="FILE", help="community YAML")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_reporting_invalid(_check))

    parser = commands.add_parser("acconto", help="monthly advance the GSE pays")
    parser.add_argument("--community", required=True, metavar="FILE", help="community YAML")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_reporting_invalid(_acconto))

    parser = commands.add_parser("project", help="feasibility projection over N years")
    parser.add_argument("--study", required=True, metavar="FILE", help="study YAML")
    parser.add_argument("--years", type=int, help="years (default: the study's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_reporting_invalid(_project))
