"""Values typed in a form as text, select options, and the numeric types' ranges."""

from __future__ import annotations

import pytest

from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.knx.errors import DPTError
from custom_components.knx_secure.value_types import (
    NUMBER_TYPES,
    SELECT_TYPES,
    format_value,
    number_range,
    parse_options,
    parse_value,
)


@pytest.mark.parametrize(
    ("dpt_id", "text", "value"),
    [
        ("1.001", "on", True),
        ("1.001", " Off ", False),
        ("1.001", "1", True),
        ("1.008", "down", True),  # the type's own names
        ("1.008", "up", False),
        ("5.001", "42", 42),
        ("9.001", "21.57", 21.56),  # as the type carries it
        ("20.102", "economy", "economy"),
        ("16.001", "Grüße", "Grüße"),
    ],
)
def test_a_value_written_as_text(dpt_id: str, text: str, value: object) -> None:
    assert parse_value(get_dpt(dpt_id), text) == value


@pytest.mark.parametrize(
    ("dpt_id", "text", "reason"),
    [
        ("1.001", "maybe", "none of off, on"),
        ("5.001", "4.5", "not a whole number"),
        ("5.001", "101", "out of range 0..100"),
        ("9.001", "warm", "not a number"),
        ("20.102", "boiling", "needs one of auto, comfort"),
        ("16.000", "Grüße", "not in the ascii character set"),
        ("232.600", "1,2,3", "cannot be written as text"),
    ],
)
def test_a_text_that_is_no_value_of_the_type(dpt_id: str, text: str, reason: str) -> None:
    with pytest.raises(DPTError, match=reason):
        parse_value(get_dpt(dpt_id), text)


def test_format_value_writes_back_what_parse_value_reads() -> None:
    for dpt_id, value in (("1.001", True), ("1.001", False), ("5.010", 7), ("20.102", "auto")):
        dpt = get_dpt(dpt_id)
        assert parse_value(dpt, format_value(value)) == value


def test_options_one_per_line() -> None:
    dpt = get_dpt("5.010")
    assert parse_options(dpt, "Off = 0\n\n Low=1 \n2") == [("Off", 0), ("Low", 1), ("2", 2)]
    with pytest.raises(DPTError, match=r"line 2: .*'Off' is there twice"):
        parse_options(dpt, "Off = 0\nOff = 1")
    with pytest.raises(DPTError, match="line 1: no label"):
        parse_options(dpt, " = 0")
    with pytest.raises(DPTError, match="line 1: "):
        parse_options(dpt, "Much = 256")
    with pytest.raises(DPTError, match="no options"):
        parse_options(dpt, "")


def test_an_enumeration_without_lines_offers_its_states() -> None:
    assert parse_options(get_dpt("20.102"), "")[:2] == [("auto", "auto"), ("comfort", "comfort")]


def test_number_ranges() -> None:
    percent = number_range(get_dpt("5.001"))
    assert (percent.minimum, percent.maximum, percent.step) == (0, 100, 1)
    temperature = number_range(get_dpt("9.001"))
    assert (temperature.minimum, temperature.step) == (-273, 0.01)
    assert "16.000" not in NUMBER_TYPES
    assert "232.600" not in SELECT_TYPES
    assert {"1.001", "5.010", "20.102", "16.000"} <= set(SELECT_TYPES)
