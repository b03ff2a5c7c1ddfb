"""Simulated KNX devices behind the virtual gateway or router.

``SimulatedDevice`` (``base.py``) is what every kind builds on; each kind has its own module.
"""

from __future__ import annotations

from .base import SimulatedDevice
from .switch import SwitchActuator, SwitchSpec

__all__ = ["SimulatedDevice", "SwitchActuator", "SwitchSpec"]
