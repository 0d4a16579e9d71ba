"""The pages' texts: written in Italian in the templates and page modules, translated by the
gettext catalogues ``locale/<lang>/LC_MESSAGES/web.po`` (Babel).

The Italian text is the message id (``it/web.po`` gives it back as it is); ``en/web.po`` gives
the English. The codes the data carry (a run's status and kind, a role, a member's type…) have
their words in both catalogues (``locale.catalogues.WEB_CODES``). ``python -m
cer_backend.locale`` updates the catalogues from the templates and page modules, and a test
asks every text for its translation.
"""

from __future__ import annotations

from typing import Final

from .. import i18n

LANGUAGES: Final = ("it", "en")
#: the gettext domain of the pages
DOMAIN: Final = "web"


def translate(text: str, language: str) -> str:
    """``text`` (Italian, or a code of the data) in ``language``."""
    return i18n.catalogue(language if language in LANGUAGES else "it", DOMAIN).gettext(text)
