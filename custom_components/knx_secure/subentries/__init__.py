"""Config subentry flows: one per entity type a gateway entry can hold.

Each type has its own module with its flow handler (on ``base.GroupAddressSubentryFlow``);
``SUBENTRY_FLOWS`` is what the config flow offers. Add a platform: a module here, a line
below, its texts under ``config_subentries`` in strings.json.
"""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigSubentryFlow

from ..const import (
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_CLIMATE,
    SUBENTRY_DATE,
    SUBENTRY_DATETIME,
    SUBENTRY_EXPOSE,
    SUBENTRY_FAN,
    SUBENTRY_LIGHT,
    SUBENTRY_NOTIFY,
    SUBENTRY_SENSOR,
    SUBENTRY_SWITCH,
    SUBENTRY_TIME,
    SUBENTRY_WEATHER,
)
from .binary_sensor import BinarySensorSubentryFlowHandler
from .climate import ClimateSubentryFlowHandler
from .clock import ClockSubentryFlowHandler
from .expose import ExposeSubentryFlowHandler
from .fan import FanSubentryFlowHandler
from .light import LightSubentryFlowHandler
from .notify import NotifySubentryFlowHandler
from .sensor import SensorSubentryFlowHandler
from .switch import SwitchSubentryFlowHandler
from .weather import WeatherSubentryFlowHandler

SUBENTRY_FLOWS: Final[dict[str, type[ConfigSubentryFlow]]] = {
    SUBENTRY_SWITCH: SwitchSubentryFlowHandler,
    SUBENTRY_BINARY_SENSOR: BinarySensorSubentryFlowHandler,
    SUBENTRY_LIGHT: LightSubentryFlowHandler,
    SUBENTRY_SENSOR: SensorSubentryFlowHandler,
    SUBENTRY_CLIMATE: ClimateSubentryFlowHandler,
    SUBENTRY_DATE: ClockSubentryFlowHandler,
    SUBENTRY_TIME: ClockSubentryFlowHandler,
    SUBENTRY_DATETIME: ClockSubentryFlowHandler,
    SUBENTRY_NOTIFY: NotifySubentryFlowHandler,
    SUBENTRY_FAN: FanSubentryFlowHandler,
    SUBENTRY_WEATHER: WeatherSubentryFlowHandler,
    SUBENTRY_EXPOSE: ExposeSubentryFlowHandler,
}
