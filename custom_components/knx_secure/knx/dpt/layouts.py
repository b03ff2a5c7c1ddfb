"""Bit layouts of the structured datapoint types (03_07_02 and the KNX colour application notes).

Field names and value shapes follow xknx's dict form (as Home Assistant's KNX integration shows
them), so a value read here can be written there and back.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import FieldValue
from .records import Bit, Flag, Int, Named, OneHot, Ratio, Record, Slot, Year

__all__ = [
    "COLOR_RGB",
    "COLOR_RGBW",
    "COLOR_TEMPERATURE_CONTROL",
    "COLOR_TEMPERATURE_TRANSITION",
    "COLOR_XYY",
    "COLOR_XYY_TRANSITION",
    "DATE",
    "DATE_TIME",
    "HVAC_STATUS",
    "RELATIVE_CONTROL_RGB",
    "RELATIVE_CONTROL_RGBW",
    "RELATIVE_CONTROL_XYY",
    "SCENE_CONTROL",
    "STEP",
    "TARIFF_ACTIVE_ENERGY",
    "TIME",
    "UP_DOWN",
    "binary_control",
    "step_control",
]

STEP = ("decrease", "increase")  # DPT 1.007, the direction of every dimming step
UP_DOWN = ("up", "down")  # DPT 1.008
_STEP_CODE = Int(0, 7)
_OCTET = Int(0, 255)
_AXIS = Ratio(0xFFFF, 5)  # x and y of CIE xy, 0..1
_FADE_TIME = Ratio(10, 1)  # seconds in 100 ms steps
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def binary_control(names: tuple[str, str]) -> Record:
    """DPT 2.xxx: a control bit and a value bit named like the matching DPT 1.xxx."""
    return Record(
        1,
        (Slot("control", Bit(), 0, 1, 1), Slot("value", Named(names), 0, 1, 0)),
        bits=2,
    )


def step_control(names: tuple[str, str]) -> Record:
    """DPT 3.xxx: a direction bit and a 3-bit step code (0 stops, n: 2^(n-1) intervals)."""
    return Record(
        1,
        (Slot("control", Named(names), 0, 1, 3), Slot("step_code", _STEP_CODE, 0, 3, 0)),
        bits=4,
    )


def _dimming(name: str, octet: int, flag: Flag | None) -> tuple[Slot, Slot]:
    """A relative dimming octet (as DPT 3.007) inside a colour control type."""
    return (
        Slot(f"{name}_control", Named(STEP), octet, 1, 3, flag),
        Slot(f"{name}_step_code", _STEP_CODE, octet, 3, 0, flag),
    )


TIME = Record(
    3,
    (
        Slot("hour", Int(0, 23), 0, 5),
        Slot("minutes", Int(0, 59), 1, 6),
        Slot("seconds", Int(0, 59), 2, 6),
        Slot("day", Named(("no_day", *_WEEKDAYS)), 0, 3, 5, default="no_day"),
    ),
)

DATE = Record(
    3,
    (
        Slot("year", Year(), 2, 7),
        Slot("month", Int(1, 12), 1, 4),
        Slot("day", Int(1, 31), 0, 5),
    ),
)

SCENE_CONTROL = Record(
    1,
    (
        Slot("scene_number", Int(1, 64, offset=1), 0, 6),
        Slot("learn", Bit(), 0, 1, 7, default=False),
    ),
)


def _midnight_is_whole(value: Mapping[str, FieldValue]) -> str | None:
    if value["hour"] == 24 and (value["minutes"], value["seconds"]) != (0, 0):
        return "hour 24 needs minutes and seconds 0"
    return None


_YEAR_INVALID = Flag(6, 4, set_means_valid=False)
_DATE_INVALID = Flag(6, 3, set_means_valid=False)
_WEEKDAY_INVALID = Flag(6, 2, set_means_valid=False)
_TIME_INVALID = Flag(6, 1, set_means_valid=False)
_WORKING_DAY_INVALID = Flag(6, 5, set_means_valid=False)

DATE_TIME = Record(
    8,
    (
        Slot("year", Int(1900, 2155, offset=1900), 0, 8, flag=_YEAR_INVALID),
        Slot("month", Int(1, 12), 1, 4, flag=_DATE_INVALID),
        Slot("day", Int(1, 31), 2, 5, flag=_DATE_INVALID),
        Slot("hour", Int(0, 24), 3, 5, flag=_TIME_INVALID),
        Slot("minutes", Int(0, 59), 4, 6, flag=_TIME_INVALID),
        Slot("seconds", Int(0, 59), 5, 6, flag=_TIME_INVALID),
        Slot("day_of_week", Named(("any_day", *_WEEKDAYS)), 3, 3, 5, flag=_WEEKDAY_INVALID),
        Slot("fault", Bit(), 6, 1, 7, default=False),
        Slot("working_day", Bit(), 6, 1, 6, flag=_WORKING_DAY_INVALID),
        Slot("dst", Bit(), 6, 1, 0, default=False),
        Slot("external_sync", Bit(), 7, 1, 7, default=False),
        Slot("source_reliable", Bit(), 7, 1, 6, default=False),
    ),
    check=lambda value: _midnight_is_whole(value) if value["hour"] is not None else None,
)

HVAC_STATUS = Record(
    1,
    (
        Slot(
            "mode", OneHot(("auto", "comfort", "standby", "economy", "building_protection")), 0, 4
        ),
        Slot("dew_point", Bit(), 0, 1, 4),
        Slot("heat_cool", Named(("cool", "heat")), 0, 1, 5),
        Slot("inactive", Bit(), 0, 1, 6),
        Slot("frost_alarm", Bit(), 0, 1, 7),
    ),
)

COLOR_RGB = Record(
    3,
    (Slot("red", _OCTET, 0), Slot("green", _OCTET, 1), Slot("blue", _OCTET, 2)),
)

TARIFF_ACTIVE_ENERGY = Record(
    6,
    (
        Slot(
            "energy",
            Int(-(1 << 31), (1 << 31) - 1, signed=True),
            0,
            32,
            flag=Flag(5, 1, set_means_valid=False),
        ),
        Slot("tariff", Int(0, 254), 4, flag=Flag(5, 0, set_means_valid=False)),
    ),
)

_XY_VALID = Flag(5, 1)
COLOR_XYY = Record(
    6,
    (
        Slot("x_axis", _AXIS, 0, 16, flag=_XY_VALID),
        Slot("y_axis", _AXIS, 2, 16, flag=_XY_VALID),
        Slot("brightness", _OCTET, 4, flag=Flag(5, 0)),
    ),
)

_XY_TRANSITION_VALID = Flag(7, 1)
COLOR_XYY_TRANSITION = Record(
    8,
    (
        Slot("fade_time", _FADE_TIME, 0, 16),
        Slot("x_axis", _AXIS, 2, 16, flag=_XY_TRANSITION_VALID),
        Slot("y_axis", _AXIS, 4, 16, flag=_XY_TRANSITION_VALID),
        Slot("brightness", _OCTET, 6, flag=Flag(7, 0)),
    ),
)

COLOR_TEMPERATURE_TRANSITION = Record(
    6,
    (
        Slot("fade_time", _FADE_TIME, 0, 16, flag=Flag(5, 2)),
        Slot("color_temperature", Int(0, 0xFFFF), 2, 16, flag=Flag(5, 1)),
        Slot("brightness", _OCTET, 4, flag=Flag(5, 0)),
    ),
)

COLOR_TEMPERATURE_CONTROL = Record(
    3,
    (*_dimming("color_temperature", 0, Flag(2, 1)), *_dimming("brightness", 1, Flag(2, 0))),
)

COLOR_RGBW = Record(
    6,
    tuple(
        Slot(name, _OCTET, octet, flag=Flag(5, 3 - octet))
        for octet, name in enumerate(("red", "green", "blue", "white"))
    ),
)

RELATIVE_CONTROL_RGBW = Record(
    5,
    tuple(
        slot
        for octet, name in enumerate(("red", "green", "blue", "white"))
        for slot in _dimming(name, octet, Flag(4, 3 - octet))
    ),
)

RELATIVE_CONTROL_XYY = Record(
    4,
    tuple(
        slot
        for octet, name in enumerate(("saturation", "colour", "brightness"))
        for slot in _dimming(name, octet, Flag(3, 2 - octet))
    ),
)

RELATIVE_CONTROL_RGB = Record(
    3,
    tuple(
        slot
        for octet, name in enumerate(("red", "green", "blue"))
        for slot in _dimming(name, octet, None)
    ),
)
