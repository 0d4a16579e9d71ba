"""The documents of a settlement run, by the name they are downloaded as.

One table for every place that hands them out (the API's report routes, the referent's
console, the member's page): each name with its content type and the service that makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..i18n import Language
from .community_report import community_report_pdf
from .council import council_report_pdf
from .export import export_csv, export_xlsx
from .report_model import RunFacts
from .statements import statement_csv, statement_pdf

PDF: Final = "application/pdf"
CSV: Final = "text/csv"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class RunDocument:
    """A document of the whole run: its content type and what makes it in a language."""

    content_type: str
    render: Callable[[RunFacts, Language], str | bytes]


@dataclass(frozen=True, slots=True)
class MemberDocument:
    """A document of one member of the run (a statement): content type, the extension of
    its file name, and what makes it for a member in a language."""

    content_type: str
    extension: str
    render: Callable[[RunFacts, str, Language], str | bytes]


#: the run's documents by name
RUN_DOCUMENTS: Final[dict[str, RunDocument]] = {
    "report.pdf": RunDocument(PDF, community_report_pdf),
    "export.csv": RunDocument(CSV, export_csv),
    "export.xlsx": RunDocument(XLSX, export_xlsx),
    "council.pdf": RunDocument(PDF, council_report_pdf),
}
#: a member's statement by name
MEMBER_DOCUMENTS: Final[dict[str, MemberDocument]] = {
    "statement.pdf": MemberDocument(PDF, "pdf", statement_pdf),
    "statement.csv": MemberDocument(CSV, "csv", statement_csv),
}
