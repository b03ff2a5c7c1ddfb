"""The simulated value and scene actuators: writes stored and reported, reads answered, a
read at start, scenes recorded, and their installation file entries (no Home Assistant)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.client import SecureTunnelClient
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, SceneActuator, ValueActuator
from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.installation import read_installation
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.telegram import GroupService, Telegram

from ..helpers import FAST, wait_for

LEVEL = GroupAddress.parse("5/6/1")  # no key in the keyring: plain
LEVEL_STATUS = GroupAddress.parse("5/6/2")
TEXT = GroupAddress.parse("5/6/3")
SCENE = GroupAddress.parse("5/6/9")
PLAIN_GA = GroupAddress.parse("2/2/2")  # no key in the keyring either
SENDER = IndividualAddress.parse("1.1.250")
DEVICE = IndividualAddress.parse("1.1.200")


class Spy:
    """A bus port that keeps what the device sends (address, service, value)."""

    def __init__(self) -> None:
        self.sent: list[tuple[GroupAddress, APCI, Any]] = []

    def deliver(self, frame: LData) -> None:
        if frame.src == DEVICE and isinstance(frame.dst, GroupAddress):
            apdu = cemi.parse_group_apdu(frame.tpdu)
            self.sent.append((frame.dst, apdu.apci, apdu.value))


def _frame(dst: GroupAddress, tpdu: bytes) -> LData:
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=tpdu)


def _write(dst: GroupAddress, dpt_id: str, value: object) -> LData:
    return _frame(dst, cemi.group_value_write(get_dpt(dpt_id).encode(value)))


SPEC = {
    "objects": [
        {"address": "5/6/1", "status": "5/6/2", "dpt": "5.001", "value": 20},
        {"address": "5/6/3", "dpt": "16.000"},
    ]
}


def _actuator(keyring: Keyring, spec: dict[str, Any] = SPEC) -> tuple[Bus, Spy, ValueActuator]:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS["value_actuator"](DEVICE, keyring, bus, spec, status_delay=0)
    assert isinstance(device, ValueActuator)
    bus.attach(device)
    bus.attach(spy)
    return bus, spy, device


def test_a_write_is_stored_and_reported_on_the_status_address(keyring: Keyring) -> None:
    bus, spy, device = _actuator(keyring)
    bus.transmit(_write(LEVEL, "5.001", 55))
    assert device.value(LEVEL) == 55
    assert device.received(LEVEL) == [55]
    level = get_dpt("5.001")
    assert spy.sent == [(LEVEL_STATUS, APCI.GROUP_VALUE_WRITE, level.encode(55))]
    # the same value again is recorded, but a status object reports changes only
    bus.transmit(_write(LEVEL, "5.001", 55))
    assert device.received(LEVEL) == [55, 55]
    assert len(spy.sent) == 1


def test_reads_are_answered_on_the_status_address_or_the_write_address(
    keyring: Keyring,
) -> None:
    bus, spy, device = _actuator(keyring)
    bus.transmit(_frame(LEVEL_STATUS, cemi.group_value_read()))
    assert spy.sent == [(LEVEL_STATUS, APCI.GROUP_VALUE_RESPONSE, get_dpt("5.001").encode(20))]
    assert device.reads_answered == {LEVEL_STATUS: 1}
    # no value yet: no answer; then the text written is the answer on its own address
    bus.transmit(_frame(TEXT, cemi.group_value_read()))
    assert len(spy.sent) == 1
    bus.transmit(_write(TEXT, "16.000", "Hello"))
    bus.transmit(_frame(TEXT, cemi.group_value_read()))
    assert spy.sent[-1] == (TEXT, APCI.GROUP_VALUE_RESPONSE, get_dpt("16.000").encode("Hello"))
    assert device.value(TEXT) == "Hello"


def test_a_payload_of_another_type_is_ignored(keyring: Keyring) -> None:
    bus, spy, device = _actuator(keyring)
    bus.transmit(_frame(LEVEL, cemi.group_value_write(b"\x01\x02\x03")))
    assert device.value(LEVEL) == 20
    assert device.received(LEVEL) == []
    assert spy.sent == []


def test_a_local_change_is_reported_and_a_value_the_type_cannot_carry_is_refused(
    keyring: Keyring,
) -> None:
    _bus, spy, device = _actuator(keyring)
    device.set_value(LEVEL, 80)
    assert spy.sent == [(LEVEL_STATUS, APCI.GROUP_VALUE_WRITE, get_dpt("5.001").encode(80))]
    assert device.received(LEVEL) == []  # a local change is not something it was sent
    with pytest.raises(ValueError, match=r"5\.001"):
        device.set_value(LEVEL, 101)


def test_a_read_at_start_stores_the_answer(keyring: Keyring) -> None:
    bus, spy, device = _actuator(keyring)
    device.read_value(TEXT)
    assert spy.sent == [(TEXT, APCI.GROUP_VALUE_READ, None)]
    bus.transmit(_frame(TEXT, cemi.group_value_response(get_dpt("16.000").encode("From HA"))))
    assert device.value(TEXT) == "From HA"
    assert device.received(TEXT) == ["From HA"]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({}, "objects: a list"),
        ({"objects": ["5/6/1"]}, r"objects\[1\]: an object"),
        ({"objects": [{"address": "5/6/1"}]}, r"objects\[1\]: dpt: a datapoint type"),
        ({"objects": [{"address": "5/6/1", "dpt": "99.999"}]}, r"objects\[1\]: dpt: "),
        ({"objects": [{"dpt": "5.001"}]}, r"objects\[1\]: address: missing"),
        (
            {"objects": [{"address": "5/6/1", "dpt": "5.001", "value": 300}]},
            r"objects\[1\]: value: ",
        ),
        (
            {
                "objects": [
                    {"address": "5/6/1", "dpt": "5.001"},
                    {"address": "5/6/1", "dpt": "9.001"},
                ]
            },
            r"objects\[2\]: device 1.1.200 already has an object on 5/6/1",
        ),
    ],
)
def test_a_bad_value_actuator_entry_names_its_field(
    keyring: Keyring, spec: dict[str, Any], error: str
) -> None:
    with pytest.raises(InstallationError, match=error):
        DEVICE_KINDS["value_actuator"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


def test_a_scene_actuator_records_the_scenes_it_receives(keyring: Keyring) -> None:
    bus, spy = Bus(Counter()), Spy()
    device = DEVICE_KINDS["scene_actuator"](
        DEVICE, keyring, bus, {"scene": "5/6/9"}, status_delay=0
    )
    assert isinstance(device, SceneActuator)
    bus.attach(device)
    bus.attach(spy)
    assert device.current_scene is None
    for scene in (1, 64, 7):
        bus.transmit(_write(SCENE, "17.001", scene))
    bus.transmit(_frame(SCENE, cemi.group_value_write(b"\x01\x02")))  # not a scene number
    bus.transmit(_frame(SCENE, cemi.group_value_read()))  # a scene object has no state
    assert device.scenes == [1, 64, 7]
    assert device.current_scene == 7
    assert spy.sent == []


@pytest.mark.parametrize(
    ("spec", "error"),
    [({}, "scene: missing"), ({"scene": "x/y"}, "scene: "), ({"scene": 1.5}, "scene: ")],
)
def test_a_bad_scene_actuator_entry_names_its_field(
    keyring: Keyring, spec: dict[str, Any], error: str
) -> None:
    with pytest.raises(InstallationError, match=error):
        DEVICE_KINDS["scene_actuator"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)


async def test_a_client_answers_the_read_of_a_device_on_the_gateway(
    keyring: Keyring, gateway: VirtualGateway
) -> None:
    """A device reads at start; a client hears the read and answers with ``respond``."""
    device = DEVICE_KINDS["value_actuator"](
        DEVICE,
        keyring,
        gateway.bus,
        {"objects": [{"address": "2/2/2", "dpt": "9.001"}]},
        status_delay=0,
    )
    assert isinstance(device, ValueActuator)
    gateway.add_device(device)
    host, port = gateway.address
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST)
    await client.connect()
    try:
        reads: list[Telegram] = []
        client.subscribe(reads.append)
        device.read_value(PLAIN_GA)
        await wait_for(lambda: bool(reads), message="the read did not reach the client")
        assert (reads[0].source, reads[0].service) == (DEVICE, GroupService.READ)
        await client.respond(PLAIN_GA, get_dpt("9.001").encode(21.5))
        await wait_for(lambda: device.value(PLAIN_GA) == 21.5)
        assert device.received(PLAIN_GA) == [21.5]
    finally:
        await client.close()


def test_the_demo_homes_display_reads_the_expose_addresses() -> None:
    """demo/installation.json's 1.1.30 (docs/DEMO.md): a value actuator with one object on
    each expose address of the plan, none with a start value, reading them all at start and
    every 60 s; keyed where the demo keyring says (1/6/x Data Secure, 2/6/x plain)."""
    demo = Path(__file__).resolve().parents[2] / "demo"
    keyring = load_keyring(demo / "Demo Home.knxkeys", "demo")
    (entry,) = [
        e
        for e in read_installation(demo / "installation.json").devices
        if str(e.address) == "1.1.30"
    ]
    device = entry.build(VirtualGateway(keyring), status_delay=0)
    assert isinstance(device, ValueActuator)
    plan = {"1/6/201": "9.001", "1/6/202": "10.001", "1/6/203": "11.001", "1/6/204": "19.001"}
    plan["2/6/201"] = "1.001"
    assert {str(o.address): o.dpt.id for o in device.objects} == plan
    assert all(o.value is None and o.status is None for o in device.objects)
    assert sorted(str(a) for a in device.reads_at_start) == sorted(plan)
    assert entry.read_period == 60
    for address in device.watched:
        assert (keyring.group_key(address) is not None) == (address.main == 1)
