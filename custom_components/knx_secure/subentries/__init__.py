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
    SUBENTRY_BUTTON,
    SUBENTRY_CLIMATE,
    SUBENTRY_COVER,
    SUBENTRY_DATE,
    SUBENTRY_DATETIME,
    SUBENTRY_EXPOSE,
    SUBENTRY_FAN,
    SUBENTRY_LIGHT,
    SUBENTRY_NOTIFY,
    SUBENTRY_NUMBER,
    SUBENTRY_SCENE,
    SUBENTRY_SELECT,
    SUBENTRY_SENSOR,
    SUBENTRY_SWITCH,
    SUBENTRY_TEXT,
    SUBENTRY_TIME,
    SUBENTRY_WEATHER,
)
from .binary_sensor import BinarySensorSubentryFlowHandler
from .button import ButtonSubentryFlowHandler
from .climate import ClimateSubentryFlowHandler
from .clock import ClockSubentryFlowHandler
from .cover import CoverSubentryFlowHandler
from .expose import ExposeSubentryFlowHandler
from .fan import FanSubentryFlowHandler
from .light import LightSubentryFlowHandler
from .notify import NotifySubentryFlowHandler
from .number import NumberSubentryFlowHandler
from .project_entities import SUBENTRY_PROJECT_ENTITIES, ProjectEntitiesSubentryFlowHandler
from .scene import SceneSubentryFlowHandler
from .select import SelectSubentryFlowHandler
from .sensor import SensorSubentryFlowHandler
from .switch import SwitchSubentryFlowHandler
from .text import TextSubentryFlowHandler
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
    SUBENTRY_COVER: CoverSubentryFlowHandler,
    SUBENTRY_NUMBER: NumberSubentryFlowHandler,
    SUBENTRY_SELECT: SelectSubentryFlowHandler,
    SUBENTRY_SCENE: SceneSubentryFlowHandler,
    SUBENTRY_BUTTON: ButtonSubentryFlowHandler,
    SUBENTRY_TEXT: TextSubentryFlowHandler,
    SUBENTRY_EXPOSE: ExposeSubentryFlowHandler,
    SUBENTRY_PROJECT_ENTITIES: ProjectEntitiesSubentryFlowHandler,
}
