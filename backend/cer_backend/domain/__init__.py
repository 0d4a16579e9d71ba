"""Pure settlement engine: the GSE rules, no I/O, no framework.

Energy is integer Wh, money is exact (:class:`decimal.Decimal`).
"""
