"""Message catalogues of the reports (gettext ``.po`` sources, one folder per language).

``python -m cer_backend.locale`` extracts the messages of the package with Babel and merges
them into every catalogue, keeping the translations and listing what is still untranslated.
"""
