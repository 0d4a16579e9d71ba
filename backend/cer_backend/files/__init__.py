"""Readers of the offline settlement's files (``FORMATS.md``).

- community file (YAML): :func:`load_community`, :func:`read_community_text`;
- readings (CSV): :func:`load_readings`, :func:`parse_readings_csv`;
- prices: :func:`load_prices` (a file or a folder), :func:`parse_gme_xml` (daily GME XML,
  hourly or 15-minute), :func:`parse_gme_xlsx` (GME annual XLSX), :func:`parse_prices_csv`;
- study file (YAML) of ``project``: :func:`load_study`.

Errors are :class:`~cer_backend.domain.errors.InvalidInput` whose problems name the file and
the line or path.
"""

from .community import load_community, load_study, load_yaml, read_community_text
from .prices import load_prices, parse_gme_xlsx, parse_gme_xml, parse_prices_csv
from .readings import load_readings, parse_readings_csv

__all__ = [
    "load_community",
    "load_prices",
    "load_readings",
    "load_study",
    "load_yaml",
    "parse_gme_xlsx",
    "parse_gme_xml",
    "parse_prices_csv",
    "parse_readings_csv",
    "read_community_text",
]
