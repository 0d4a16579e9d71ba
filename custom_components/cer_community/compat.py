"""The few Home Assistant APIs that changed between 2024.3 and 2026.10, guarded in one place.

mypy checks this package against Home Assistant 2024.3, the oldest release we support.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult
else:
    try:  # HA 2024.4 and later
        from homeassistant.config_entries import ConfigFlowResult
    except ImportError:  # HA 2024.3
        from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult

__all__ = ["ConfigFlowResult"]
