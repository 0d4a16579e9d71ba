"""Shared test configuration.

``custom_components`` is imported first so that our integration, not the test harness's
``testing_config/custom_components``, is the package Home Assistant finds.
"""

import custom_components  # noqa: F401
