"""The text subentry: 16.000 (ASCII) or 16.001 (Latin-1) on a write address, an optional
status address, and whether Home Assistant answers reads."""

from __future__ import annotations

from ..value_types import TEXT_TYPES
from .value_fields import ValueSubentryFlow


class TextSubentryFlowHandler(ValueSubentryFlow):
    """Add or change a text."""

    types = TEXT_TYPES
    default_type = "16.000"
