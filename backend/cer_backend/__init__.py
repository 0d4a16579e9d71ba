"""cer_backend: the companion backend of cer_community.

Collects hourly readings from every building of an Italian renewable energy community
(CER, *comunità energetica rinnovabile*), settles them by the GSE rules and shares the money
among members by the statute. The pure settlement engine lives in :mod:`cer_backend.domain`.
"""

__version__ = "0.1.0"
