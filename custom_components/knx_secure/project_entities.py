"""Entities suggested from an imported ETS project: the inference rules, in one place.

Pure (no Home Assistant, no I/O): given the project and what the user picked (ETS 6
functions and/or group addresses), ``suggest_entities`` returns the entities to create,
each as a platform (a subentry type) and the subentry data its form would save (the
flow then completes it with the form's defaults and checks it with the form's rules).

Source of the ETS 6 function types and roles: ETS 6's ``knx_master.xml`` (its
``FunctionTypes`` with their ``FunctionPoint`` roles, and the ``DatapointRoles`` that name
them), as shipped in the ETS 6 example project of xknxproject's tests
(``test/resources/testprojekt-ets6-functions.knxproj``); xknxproject passes the function's
``Type`` ("FT-6") and each group address reference's ``Role`` ("SwitchOnOff") through.

The rules (also in the README):

- A function's platform comes from its type: FT-1 (switchable light), FT-2 and FT-6
  (dimmable light) a light; FT-3 and FT-7 (sun protection) a cover; FT-4, FT-5, FT-8 and
  FT-9 (heating) a climate. A custom function (FT-0, or a type we don't know) gets its
  platform from its types: an up/down (1.008) makes a cover, an HVAC mode (20.102) or a
  setpoint a climate, a switch (1.001) with a brightness (5.001) or a colour a light;
  otherwise its addresses are suggested one by one.
- Each address of a function fills the field its ETS role names (``ROLE_FIELDS``);
  addresses without a known role fill a field by their type and name (``_TYPE_FIELDS``:
  a name with "status"/"feedback"... goes to the status field). What fills no field is
  listed as unused.
- A lone address: 1.008 a cover, 1.019 a window and 1.018 an occupancy binary sensor,
  1.001 (or plain DPT 1) a switch, or a binary sensor when no device can write it (the
  project's flags) or, without flags, when its name says it is a status; 17.001 a
  scene; 10.001, 11.001 and 19.001 a time, date and date-time; any type a sensor shows
  (``sensor_types``) a sensor of that type. An address without a type suggests nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.const import CONF_DEVICE_CLASS, CONF_NAME

from .const import (
    CONF_ANGLE_ADDRESS,
    CONF_ANGLE_STATE_ADDRESS,
    CONF_COLOR_TEMPERATURE_TYPE,
    CONF_COLOR_TYPE,
    CONF_CONTROLLER_MODE_ADDRESS,
    CONF_CONTROLLER_MODE_STATE_ADDRESS,
    CONF_OPERATION_MODE_ADDRESS,
    CONF_OPERATION_MODE_STATE_ADDRESS,
    CONF_POSITION_ADDRESS,
    CONF_POSITION_STATE_ADDRESS,
    CONF_SCENE_ADDRESS,
    CONF_SCENE_NUMBER,
    CONF_SETPOINT_SHIFT_ADDRESS,
    CONF_SETPOINT_SHIFT_DPT,
    CONF_SETPOINT_SHIFT_STATE_ADDRESS,
    CONF_STATE_ADDRESS,
    CONF_STOP_ADDRESS,
    CONF_STOP_DPT,
    CONF_TARGET_TEMPERATURE_ADDRESS,
    CONF_TARGET_TEMPERATURE_STATE_ADDRESS,
    CONF_TEMPERATURE_ADDRESS,
    CONF_UP_DOWN_ADDRESS,
    CONF_VALUE_TYPE,
    CONF_WRITE_ADDRESS,
    SUBENTRY_BINARY_SENSOR,
    SUBENTRY_CLIMATE,
    SUBENTRY_COVER,
    SUBENTRY_DATE,
    SUBENTRY_DATETIME,
    SUBENTRY_LIGHT,
    SUBENTRY_SCENE,
    SUBENTRY_SENSOR,
    SUBENTRY_SWITCH,
    SUBENTRY_TIME,
)
from .project import Project, ProjectAddress, ProjectFunction
from .sensor_types import SENSOR_TYPES

# The light's fields (subentries/light.py names them "<part>_address", "<part>_state_address").
SWITCH: Final = "switch_address"
SWITCH_STATE: Final = "switch_state_address"
BRIGHTNESS: Final = "brightness_address"
BRIGHTNESS_STATE: Final = "brightness_state_address"
COLOR_TEMPERATURE: Final = "color_temperature_address"
COLOR_TEMPERATURE_STATE: Final = "color_temperature_state_address"
COLOR: Final = "color_address"
COLOR_STATE: Final = "color_state_address"

#: ETS 6 function types (knx_master.xml) and the platform each becomes.
FUNCTION_PLATFORMS: Final[Mapping[str, str]] = {
    "FT-1": SUBENTRY_LIGHT,  # switchable light
    "FT-2": SUBENTRY_LIGHT,  # dimmable light
    "FT-6": SUBENTRY_LIGHT,  # dimmable light
    "FT-3": SUBENTRY_COVER,  # sun protection
    "FT-7": SUBENTRY_COVER,  # sun protection with positions
    "FT-4": SUBENTRY_CLIMATE,  # heating radiator
    "FT-5": SUBENTRY_CLIMATE,  # heating floor
    "FT-8": SUBENTRY_CLIMATE,  # heating (switching variable)
    "FT-9": SUBENTRY_CLIMATE,  # heating (continuous variable)
}

#: ETS 6 datapoint roles (knx_master.xml's DatapointRoles) and the field each fills. Roles
#: not here (DimmingControl: relative dimming; WindAlarm, RainAlarm; ValvePosition,
#: ValveSwitch, WindowStatus: the actuator's inputs and outputs) fill nothing.
ROLE_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    SUBENTRY_LIGHT: {
        "SwitchOnOff": SWITCH,
        "InfoOnOff": SWITCH_STATE,
        "DimmingValue": BRIGHTNESS,
        "InfoDimmingValue": BRIGHTNESS_STATE,
    },
    SUBENTRY_COVER: {
        "MoveUpDown": CONF_UP_DOWN_ADDRESS,
        "StopStepUpDown": CONF_STOP_ADDRESS,
        "CurrentAbsolutePositionBlindsPercentage": CONF_POSITION_STATE_ADDRESS,
        "CurrentAbsolutePositionSlatPercentage": CONF_ANGLE_STATE_ADDRESS,
    },
    SUBENTRY_CLIMATE: {
        "TempRoom": CONF_TEMPERATURE_ADDRESS,
        "TempRoomSetpoint": CONF_TARGET_TEMPERATURE_ADDRESS,
        "HVACMode": CONF_OPERATION_MODE_ADDRESS,
    },
}

# Words of an address's name that tell what it is (lower case; English and German, the
# languages of most ETS projects).
_STATUS_WORDS: Final = ("status", "state", "feedback", "rückmeldung", "rueckmeldung", "info")
_SETPOINT_WORDS: Final = ("setpoint", "set point", "sollwert", "target")
_SLAT_WORDS: Final = ("slat", "lamelle", "angle", "winkel", "tilt")

_LIGHT_COLOR_TYPES: Final = ("232.600", "251.600", "242.600")
_STOP_TYPES: Final = ("1.017", "1.007")
_SHIFT_TYPES: Final = ("6.010", "9.002")
_SWITCH_TYPES: Final = ("1", "1.001", "1.002", "1.003")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An entity to create: its platform (subentry type) and its subentry data."""

    platform: str
    name: str
    data: Mapping[str, Any]  # the form's fields (addresses, types), without the name
    source: str  # the function's identifier or the group address it comes from
    unused: tuple[str, ...] = ()  # addresses of the function it does not use

    @property
    def addresses(self) -> dict[str, str]:
        """Its address fields and their addresses, in the order they were filled."""
        return {k: v for k, v in self.data.items() if k.endswith("_address")}

    def subentry_data(self) -> dict[str, Any]:
        return {CONF_NAME: self.name, **self.data}


@dataclass(slots=True)
class _Fields:
    """The fields of one entity as they get filled; the addresses no field took."""

    data: dict[str, Any] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)

    def put(self, key: str | None, address: str, extra: Mapping[str, Any] | None = None) -> None:
        if key is None or key in self.data:
            self.unused.append(address)
            return
        self.data[key] = address
        self.data.update(extra or {})


def _words(address: ProjectAddress | None, *more: str) -> str:
    parts = [address.name, address.description] if address is not None else []
    return " ".join([*parts, *more]).lower()


def _says(text: str, words: Iterable[str]) -> bool:
    return any(word in text for word in words)


def _state_or(key: str, state_key: str, text: str) -> str:
    """The status field when the name says so, else the write field."""
    return state_key if _says(text, _STATUS_WORDS) else key


def is_status(address: ProjectAddress) -> bool:
    """Whether an address is a status: no device can write it (the project's flags), or,
    when the project has no flags, its name says so."""
    if address.writable is not None:
        return not address.writable
    return _says(_words(address), _STATUS_WORDS)


# Fields by type, for addresses without a known role: (key, extra data) from the
# address's type and the words of its name.
type _TypeRule = Callable[[str, str], tuple[str | None, dict[str, Any]]]


def _light_field(dpt: str, text: str) -> tuple[str | None, dict[str, Any]]:
    if dpt in _SWITCH_TYPES:
        return _state_or(SWITCH, SWITCH_STATE, text), {}
    if dpt == "5.001":
        return _state_or(BRIGHTNESS, BRIGHTNESS_STATE, text), {}
    if dpt == "7.600":
        key = _state_or(COLOR_TEMPERATURE, COLOR_TEMPERATURE_STATE, text)
        return key, {CONF_COLOR_TEMPERATURE_TYPE: dpt}
    if dpt in _LIGHT_COLOR_TYPES:
        return _state_or(COLOR, COLOR_STATE, text), {CONF_COLOR_TYPE: dpt}
    return None, {}


def _cover_field(dpt: str, text: str) -> tuple[str | None, dict[str, Any]]:
    if dpt == "1.008":
        return CONF_UP_DOWN_ADDRESS, {}
    if dpt in _STOP_TYPES:
        return CONF_STOP_ADDRESS, {CONF_STOP_DPT: dpt}
    if dpt == "5.001" and _says(text, _SLAT_WORDS):
        return _state_or(CONF_ANGLE_ADDRESS, CONF_ANGLE_STATE_ADDRESS, text), {}
    if dpt == "5.001":
        return _state_or(CONF_POSITION_ADDRESS, CONF_POSITION_STATE_ADDRESS, text), {}
    return None, {}


def _climate_field(dpt: str, text: str) -> tuple[str | None, dict[str, Any]]:
    if dpt == "9.001" and _says(text, _SETPOINT_WORDS):
        key = CONF_TARGET_TEMPERATURE_ADDRESS
        return _state_or(key, CONF_TARGET_TEMPERATURE_STATE_ADDRESS, text), {}
    if dpt == "9.001":
        return CONF_TEMPERATURE_ADDRESS, {}
    if dpt == "20.102":
        return _state_or(CONF_OPERATION_MODE_ADDRESS, CONF_OPERATION_MODE_STATE_ADDRESS, text), {}
    if dpt == "20.105":
        key = CONF_CONTROLLER_MODE_ADDRESS
        return _state_or(key, CONF_CONTROLLER_MODE_STATE_ADDRESS, text), {}
    if dpt in _SHIFT_TYPES:
        key = CONF_SETPOINT_SHIFT_ADDRESS
        return _state_or(key, CONF_SETPOINT_SHIFT_STATE_ADDRESS, text), {
            CONF_SETPOINT_SHIFT_DPT: dpt
        }
    return None, {}


_TYPE_FIELDS: Final[Mapping[str, _TypeRule]] = {
    SUBENTRY_LIGHT: _light_field,
    SUBENTRY_COVER: _cover_field,
    SUBENTRY_CLIMATE: _climate_field,
}

#: What a platform needs to be an entity at all (its form refuses it otherwise).
_REQUIRED: Final[Mapping[str, str]] = {
    SUBENTRY_LIGHT: SWITCH,
    SUBENTRY_COVER: CONF_UP_DOWN_ADDRESS,
    SUBENTRY_CLIMATE: CONF_TEMPERATURE_ADDRESS,
}


def function_platform(project: Project, function: ProjectFunction) -> str | None:
    """The platform of a function: by its ETS type, else guessed from its types."""
    if (platform := FUNCTION_PLATFORMS.get(function.function_type)) is not None:
        return platform
    dpts = {_dpt(project, address) for _, address in function.addresses}
    if "1.008" in dpts:
        return SUBENTRY_COVER
    setpoint = any(
        _dpt(project, a) == "9.001"
        and _says(_words(project.addresses.get(a), role), _SETPOINT_WORDS)
        for role, a in function.addresses
    )
    if "20.102" in dpts or setpoint:
        return SUBENTRY_CLIMATE
    if dpts & set(_SWITCH_TYPES) and dpts & {"5.001", "7.600", *_LIGHT_COLOR_TYPES}:
        return SUBENTRY_LIGHT
    return None


def _dpt(project: Project, address: str) -> str | None:
    known = project.addresses.get(address)
    return known.dpt if known is not None else None


def suggest_for_function(project: Project, function: ProjectFunction) -> list[Suggestion]:
    """One entity for a function whose platform is known (with every role it can fill);
    else one per address that makes an entity alone."""
    platform = function_platform(project, function)
    if platform is None:
        return [
            s
            for _, address in function.addresses
            if (s := suggest_for_address(project, address)) is not None
        ]
    fields = _Fields()
    roles = ROLE_FIELDS[platform]
    # ETS roles first: they say what the address is; then the rest by their types.
    by_type = []
    for role, address in function.addresses:
        if role in roles:
            fields.put(roles[role], address, _role_extra(project, role, address))
        else:
            by_type.append((role, address))
    for role, address in by_type:
        dpt = _dpt(project, address)
        key, extra = (
            (None, {})
            if dpt is None
            else _TYPE_FIELDS[platform](dpt, _words(project.addresses.get(address), role))
        )
        fields.put(key, address, extra)
    _fold_lone_brightness_status(platform, fields)
    if _REQUIRED[platform] not in fields.data:
        return []
    return [
        Suggestion(
            platform=platform,
            name=function.name or function.identifier,
            data=fields.data,
            source=function.identifier,
            unused=tuple(fields.unused),
        )
    ]


def _role_extra(project: Project, role: str, address: str) -> dict[str, Any]:
    """The type field a role's address brings: the stop address's type (ETS's stop/step
    role is a step, 1.007, unless the project types it a stop, 1.017)."""
    if role == "StopStepUpDown":
        dpt = _dpt(project, address)
        return {CONF_STOP_DPT: dpt if dpt in _STOP_TYPES else "1.007"}
    return {}


def _fold_lone_brightness_status(platform: str, fields: _Fields) -> None:
    """FT-2's one brightness address has the status role (InfoDimmingValue) but is its
    value: a brightness status without a brightness becomes the brightness."""
    if (
        platform == SUBENTRY_LIGHT
        and BRIGHTNESS not in fields.data
        and BRIGHTNESS_STATE in fields.data
    ):
        fields.data[BRIGHTNESS] = fields.data.pop(BRIGHTNESS_STATE)


def suggest_for_address(project: Project, address: str) -> Suggestion | None:
    """The entity one address makes alone, or None (no type, or none we can show)."""
    known = project.addresses.get(address)
    if known is None or known.dpt is None:
        return None
    platform, data = _lone_address(known)
    if platform is None:
        return None
    return Suggestion(platform=platform, name=known.name or address, data=data, source=address)


def _lone_address(address: ProjectAddress) -> tuple[str | None, dict[str, Any]]:
    dpt, ga = address.dpt, address.address
    if dpt == "1.008":
        return SUBENTRY_COVER, {CONF_UP_DOWN_ADDRESS: ga}
    if dpt == "1.019":
        return SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: ga, CONF_DEVICE_CLASS: "window"}
    if dpt == "1.018":
        return SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: ga, CONF_DEVICE_CLASS: "occupancy"}
    if dpt in _SWITCH_TYPES:
        if is_status(address):
            return SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: ga}
        return SUBENTRY_SWITCH, {CONF_WRITE_ADDRESS: ga}
    if dpt is not None and dpt.startswith("1."):
        return SUBENTRY_BINARY_SENSOR, {CONF_STATE_ADDRESS: ga}
    if dpt == "17.001":
        return SUBENTRY_SCENE, {CONF_SCENE_ADDRESS: ga, CONF_SCENE_NUMBER: 1}
    clock = {"10.001": SUBENTRY_TIME, "11.001": SUBENTRY_DATE, "19.001": SUBENTRY_DATETIME}
    if dpt in clock:
        return clock[dpt], {CONF_WRITE_ADDRESS: ga}
    if dpt in SENSOR_TYPES:
        return SUBENTRY_SENSOR, {CONF_STATE_ADDRESS: ga, CONF_VALUE_TYPE: dpt}
    return None, {}


def suggest_entities(
    project: Project, functions: Collection[str], addresses: Collection[str]
) -> list[Suggestion]:
    """The entities the picked functions and addresses make, in the order picked.

    An address picked on its own that a picked function already uses adds nothing.
    """
    suggestions: list[Suggestion] = []
    taken: set[str] = set()
    for identifier in functions:
        function = project.functions.get(identifier)
        if function is None:
            continue
        suggestions.extend(suggest_for_function(project, function))
        taken.update(address for _, address in function.addresses)
    for address in addresses:
        if address in taken:
            continue
        if (lone := suggest_for_address(project, address)) is not None:
            suggestions.append(lone)
            taken.add(address)
    return suggestions
