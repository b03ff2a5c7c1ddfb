"""The simulated sensor device: reads, local changes, periodic sending with a random walk,
and its installation file entry, on a real bus (no Home Assistant)."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SensorDevice, SensorValueSpec
from custom_components.knx_secure.knx.dpt import DPTValue, get_dpt
from custom_components.knx_secure.knx.errors import DPTError, InstallationError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

TEMPERATURE = GroupAddress.parse("5/5/1")  # no key in the keyring: plain
HUMIDITY = GroupAddress.parse("5/5/2")
TEXT = GroupAddress.parse("5/5/3")
SENDER = IndividualAddress.parse("1.1.250")
DEVICE = IndividualAddress.parse("1.1.200")


class Spy:
    """A bus port that decodes what the device sends, and tells when enough came."""

    def __init__(self) -> None:
        self.sent: list[tuple[GroupAddress, APCI, Any]] = []
        self._wanted = 0
        self._enough = asyncio.Event()

    def deliver(self, frame: LData) -> None:
        if frame.src != DEVICE or not isinstance(frame.dst, GroupAddress):
            return
        apdu = cemi.parse_group_apdu(frame.tpdu)
        self.sent.append((frame.dst, apdu.apci, apdu.value))
        if len(self.sent) >= self._wanted:
            self._enough.set()

    def values(self, address: GroupAddress, dpt_id: str) -> list[DPTValue]:
        dpt = get_dpt(dpt_id)
        return [dpt.decode(value) for dst, _, value in self.sent if dst == address]

    async def wait_for(self, count: int) -> None:
        """Until the device has sent ``count`` telegrams in all."""
        self._wanted = count
        self._enough.clear()
        if len(self.sent) < count:
            await asyncio.wait_for(self._enough.wait(), 5)


def _read(dst: GroupAddress) -> LData:
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=cemi.group_value_read())


def _device(keyring: Keyring, spec: dict[str, Any]) -> tuple[Bus, Spy, SensorDevice]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS["sensor"](DEVICE, keyring, bus, spec, status_delay=0)
    assert isinstance(device, SensorDevice)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def test_a_sensor_answers_reads_with_its_values(keyring: Keyring) -> None:
    spec = {
        "values": [
            {"address": "5/5/1", "dpt": "9.001", "value": 21.5},
            {"address": "5/5/2", "dpt": "20.102", "value": "comfort"},
            {"address": "5/5/3", "dpt": "16.000", "value": "KNX is OK"},
        ]
    }
    bus, spy, device = _device(keyring, spec)
    for address in (TEMPERATURE, HUMIDITY, TEXT):
        bus.transmit(_read(address))
    assert [(dst, apci) for dst, apci, _ in spy.sent] == [
        (TEMPERATURE, APCI.GROUP_VALUE_RESPONSE),
        (HUMIDITY, APCI.GROUP_VALUE_RESPONSE),
        (TEXT, APCI.GROUP_VALUE_RESPONSE),
    ]
    assert spy.values(TEMPERATURE, "9.001") == [21.5]
    assert spy.values(HUMIDITY, "20.102") == ["comfort"]
    assert spy.values(TEXT, "16.000") == ["KNX is OK"]
    assert device.reads_answered == Counter({TEMPERATURE: 1, HUMIDITY: 1, TEXT: 1})


def test_a_sensor_does_not_answer_for_other_addresses(keyring: Keyring) -> None:
    bus, spy, device = _device(
        keyring, {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1}]}
    )
    bus.transmit(_read(HUMIDITY))
    assert spy.sent == []
    assert not device.reads_answered


def test_a_local_change_is_sent_once_as_the_type_carries_it(keyring: Keyring) -> None:
    bus, spy, device = _device(
        keyring, {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 20}]}
    )
    device.set_value(TEMPERATURE, 21.567)
    device.set_value(TEMPERATURE, 21.56)  # what DPT 9 carries of 21.567: no change
    assert [(dst, apci) for dst, apci, _ in spy.sent] == [(TEMPERATURE, APCI.GROUP_VALUE_WRITE)]
    assert spy.values(TEMPERATURE, "9.001") == [21.56]
    assert device.value(TEMPERATURE) == 21.56
    bus.transmit(_read(TEMPERATURE))
    assert spy.values(TEMPERATURE, "9.001") == [21.56, 21.56]


def test_a_local_change_the_type_cannot_carry_is_refused(keyring: Keyring) -> None:
    _, spy, device = _device(
        keyring, {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 20}]}
    )
    with pytest.raises(DPTError, match="out of range"):
        device.set_value(TEMPERATURE, -300)
    assert device.value(TEMPERATURE) == 20
    assert spy.sent == []


async def _walk(keyring: Keyring, spec: SensorValueSpec, seed: int, count: int) -> Spy:
    """What a device walking one value sends ``count`` times (the walk seeded)."""
    bus, spy = Bus(Counter()), Spy()
    device = SensorDevice(DEVICE, keyring, bus, rng=random.Random(seed))
    device.add_value(spec)
    bus.attach(device)
    bus.attach(spy)
    device.start()
    device.start()  # idempotent: one timer per value
    await spy.wait_for(count)
    device.cancel_pending()
    assert device.value(spec.address) == spy.values(spec.address, spec.dpt.id)[-1]
    return spy


async def test_periodic_values_walk_within_the_variation(keyring: Keyring) -> None:
    spec = SensorValueSpec(TEMPERATURE, get_dpt("9.001"), 20.0, 0.001, 0.5)
    spy = await _walk(keyring, spec, 7, 20)
    sent = spy.values(TEMPERATURE, "9.001")
    assert all(apci is APCI.GROUP_VALUE_WRITE for _, apci, _ in spy.sent)
    steps = [abs(b - a) for a, b in zip([20.0, *sent], sent, strict=False)]
    assert max(steps) <= 0.5 + 0.01  # the variation, plus DPT 9's resolution
    assert len(set(sent)) > 1  # it does move


async def test_a_walk_stays_in_the_types_range_and_whole(keyring: Keyring) -> None:
    spy = await _walk(keyring, SensorValueSpec(HUMIDITY, get_dpt("5.001"), 1, 0.001, 30), 3, 30)
    sent = spy.values(HUMIDITY, "5.001")
    assert all(isinstance(value, int) and 0 <= value <= 100 for value in sent)
    assert 0 in sent  # pushed against the minimum and clamped there


async def test_sending_resumes_after_the_timers_were_cancelled(keyring: Keyring) -> None:
    _, spy, device = _device(
        keyring,
        {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 20, "period": 0.001}]},
    )
    await spy.wait_for(1)  # built on a running loop: it started by itself
    device.cancel_pending()
    count = len(spy.sent)
    device.start()
    await spy.wait_for(count + 2)
    device.cancel_pending()
    assert set(spy.values(TEMPERATURE, "9.001")) == {20.0}  # no variation: the same value


def test_without_a_period_nothing_is_scheduled(keyring: Keyring) -> None:
    _, spy, device = _device(
        keyring, {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 20}]}
    )
    device.start()  # no running loop needed: nothing to schedule
    assert spy.sent == []
    assert device.values == (SensorValueSpec(TEMPERATURE, get_dpt("9.001"), 20.0),)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "values: a list"),
        ({"values": []}, "values: a list"),
        ({"values": ["5/5/1"]}, "values[0]: an object"),
        ({"values": [{"address": "5/5/1", "value": 1}]}, "values[0]: dpt: a datapoint type"),
        (
            {"values": [{"address": "5/5/1", "dpt": "99.9", "value": 1}]},
            "values[0]: dpt: datapoint type '99.9' is not supported",
        ),
        ({"values": [{"address": "5/5/1", "dpt": "9.001"}]}, "values[0]: value: missing"),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": -300}]},
            "values[0]: value: DPT 9.001 .temperature.: -300 is out of range",
        ),
        ({"values": [{"dpt": "9.001", "value": 1}]}, "values[0]: address: missing"),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1, "period": -1}]},
            "values[0]: period: -1 is outside 0..None",
        ),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1, "period": math.inf}]},
            "values[0]: period and variation are finite numbers, 0 or more",
        ),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1, "variation": math.nan}]},
            "values[0]: period and variation are finite numbers, 0 or more",
        ),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1, "variation": "x"}]},
            "values[0]: variation: a number",
        ),
        (
            {"values": [{"address": "5/5/1", "dpt": "16.000", "value": "a", "variation": 1}]},
            "values[0]: DPT 16.000 .string. is not a number: it cannot vary",
        ),
        (
            {"values": [{"address": "5/5/1", "dpt": "9.001", "value": 1}] * 2},
            "values[1]: device 1.1.200 already sends on 5/5/1",
        ),
    ],
)
def test_a_bad_sensor_spec_names_the_field(
    keyring: Keyring, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DEVICE_KINDS["sensor"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_the_demo_homes_sensors_follow_its_address_plan() -> None:
    """demo/installation.json's sensor entries build, on the plan's addresses and types."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    entries = json.loads((demo / "installation.json").read_text(encoding="utf-8"))["devices"]
    built: dict[tuple[str, str], str] = {}
    for entry in entries:
        if entry["kind"] != "sensor":
            continue
        address = IndividualAddress.parse(entry["address"])
        device = DEVICE_KINDS["sensor"](address, keyring, Bus(Counter()), entry, status_delay=0)
        assert isinstance(device, SensorDevice)
        for value in device.values:
            built[(str(value.address), value.dpt.id)] = str(address)
    assert built == {
        ("1/5/1", "9.001"): "1.1.6",
        ("1/5/2", "9.007"): "1.1.6",
        ("1/5/3", "9.004"): "1.1.6",
        ("1/5/4", "9.005"): "1.1.6",
        ("1/5/5", "14.056"): "1.1.6",
        ("1/5/6", "13.013"): "1.1.6",
        ("2/5/1", "9.001"): "1.1.8",
    }


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_FIELD = st.sampled_from(["address", "dpt", "value", "period", "variation"])


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(_FIELD, _JSON | st.sampled_from(["9.001", "16.000", "5/5/1"])))
def test_any_sensor_entry_builds_or_names_its_error(
    keyring: Keyring, changes: dict[str, Any]
) -> None:
    """A demo-like value with fields replaced by any JSON: a device or an InstallationError."""
    value = {"address": "5/5/1", "dpt": "9.001", "value": 20, **changes}
    try:
        device = DEVICE_KINDS["sensor"](
            DEVICE, keyring, Bus(Counter()), {"values": [value]}, status_delay=0
        )
    except InstallationError:
        return
    assert isinstance(device, SensorDevice)
