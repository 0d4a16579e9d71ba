"""Generate the example community *CER Borgo Sole* with a year of hourly data.

Usage (from the repository root, with the backend installed)::

    python examples/generate.py                 # writes examples/comune/ (and comune/dso/)
    python examples/generate.py --seed 7 --year 2025 --out /tmp/cer-demo

Deterministic: the same seed and year give byte-identical files. The generator lives in the
package (:func:`cer_backend.files.example.generate_example`) so ``cer-backend demo`` can use it
without this script. Then settle the year::

    cer-backend settle --community examples/comune/community.yaml \\
        --readings examples/comune/readings.csv --prices examples/comune/prices.csv \\
        --period 2025
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cer_backend.files.example import DEFAULT_SEED, DEFAULT_YEAR, generate_example


def main() -> None:
    """Write the example files and print their paths."""
    parser = argparse.ArgumentParser(description="Generate the example CER (synthetic data).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "comune")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--year", type=int, default=DEFAULT_YEAR)
    args = parser.parse_args()
    files = generate_example(args.out, seed=args.seed, year=args.year)
    for path in (files.community, files.readings, files.prices, files.study, *files.dso):
        print(path)


if __name__ == "__main__":
    main()
