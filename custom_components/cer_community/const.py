"""Constants of the cer_community integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "cer_community"
LOGGER: Final = logging.getLogger(__package__)

CONF_POD: Final = "pod"
