"""The run's documents as downloads of the web pages (the console's and the member's).

Made by the same services and table as the API's report routes
(:mod:`cer_backend.service.run_documents`); the file is ``cer-{community}-{period}-…``.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from .. import i18n
from ..api.keys import ENGINE_KEY
from ..service.report_model import ReportError, RunFacts, load_facts
from ..service.run_documents import MEMBER_DOCUMENTS, RUN_DOCUMENTS
from .pages import LANGUAGE_KEY, PageError, file_response


def document_language(request: web.Request) -> i18n.Language:
    """The documents' language: the page's (Italian when none is chosen)."""
    return i18n.language(request.get(LANGUAGE_KEY) or "it")


def stem(facts: RunFacts) -> str:
    """The start of a run document's file name."""
    return f"cer-{facts.community_id}-{facts.period}"


async def run_facts(request: web.Request, community_id: str, not_found: str) -> RunFacts:
    """The facts of the URL's run of ``community_id``; ``not_found`` (a page text) when it is
    not there."""
    try:
        return await load_facts(request.app[ENGINE_KEY], request.match_info["run"], community_id)
    except ReportError as err:
        raise PageError(err.status, not_found) from err


async def run_document(request: web.Request, facts: RunFacts, name: str) -> web.Response:
    """The run document ``name`` (a report that cannot be made shows its status)."""
    document = RUN_DOCUMENTS[name]
    try:
        body = await asyncio.to_thread(document.render, facts, document_language(request))
    except ReportError as err:
        raise PageError(err.status, str(err)) from err
    return file_response(body, document.content_type, f"{stem(facts)}-{name}")


async def member_document(
    request: web.Request, facts: RunFacts, member_id: str, name: str, not_found: str
) -> web.Response:
    """The statement ``name`` of a member of the run; ``not_found`` when he is not in it."""
    if not any(m["id"] == member_id for m in facts.result.get("members") or []):
        raise PageError(404, not_found)
    document = MEMBER_DOCUMENTS[name]
    body = await asyncio.to_thread(document.render, facts, member_id, document_language(request))
    filename = f"{stem(facts)}-{member_id}.{document.extension}"
    return file_response(body, document.content_type, filename)
