"""The simulated blind actuator on a real bus: travel over time, stop, step, slats, reads."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.bus import Bus
from custom_components.knx_secure.knx.cemi import APCI, LData, MessageCode
from custom_components.knx_secure.knx.devices import DEVICE_KINDS, BlindActuator
from custom_components.knx_secure.knx.dpt import get_dpt
from custom_components.knx_secure.knx.errors import InstallationError
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.telegram import GroupValue

DEVICE = IndividualAddress.parse("1.1.200")
SENDER = IndividualAddress.parse("1.1.250")
# Plain addresses of the Secure Test keyring (no keys there).
UP_DOWN, STOP, STEP = (GroupAddress.parse(a) for a in ("5/3/1", "5/3/2", "5/3/7"))
POSITION, POSITION_STATUS = GroupAddress.parse("5/3/3"), GroupAddress.parse("5/3/4")
SLAT, SLAT_STATUS = GroupAddress.parse("5/3/5"), GroupAddress.parse("5/3/6")
SPEC = {
    "up_down": "5/3/1",
    "stop": "5/3/2",
    "step": "5/3/7",
    "position": "5/3/3",
    "position_status": "5/3/4",
    "slat": "5/3/5",
    "slat_status": "5/3/6",
    "travel_time": 0.5,
}
PERCENT = get_dpt("5.001")
LIMIT = 3.0  # s: bounds every wait for a report of a 0.5 s travel


class Reports:
    """A bus port that queues the device's status telegrams as (address, APCI, value)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[GroupAddress, APCI, GroupValue | None]] = asyncio.Queue()

    def deliver(self, frame: LData) -> None:
        if frame.src == DEVICE:
            apdu = cemi.parse_group_apdu(frame.tpdu)
            assert isinstance(frame.dst, GroupAddress)
            self.queue.put_nowait((frame.dst, apdu.apci, apdu.value))

    async def next(self, address: GroupAddress) -> int:
        """The percent value of the next write or response to ``address``."""
        while True:
            dst, _apci, value = await asyncio.wait_for(self.queue.get(), LIMIT)
            if dst == address:
                assert value is not None
                decoded = PERCENT.decode(value)
                assert isinstance(decoded, int)
                return decoded

    async def until(self, address: GroupAddress, value: int) -> list[int]:
        """Every value reported on ``address`` up to and including ``value``."""
        seen = [await self.next(address)]
        while seen[-1] != value:
            seen.append(await self.next(address))
        return seen


def _send(bus: Bus, dst: GroupAddress, tpdu: bytes) -> None:
    bus.transmit(LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=tpdu))


def _write(bus: Bus, dst: GroupAddress, dpt: str, value: object) -> None:
    _send(bus, dst, cemi.group_value_write(get_dpt(dpt).encode(value)))


type MakeBlind = Callable[..., tuple[Bus, BlindActuator, Reports]]


@pytest.fixture
def make_blind(keyring: Keyring) -> Iterator[MakeBlind]:
    """Builds blinds on a bus of their own; forgets their timers at the end (as the gateway
    does when it stops): a stopped travel's last tick may still be scheduled."""
    blinds: list[BlindActuator] = []

    def make(spec: dict[str, Any] | None = None) -> tuple[Bus, BlindActuator, Reports]:
        bus, reports = Bus(Counter()), Reports()
        device = DEVICE_KINDS["blind"](DEVICE, keyring, bus, spec or SPEC, status_delay=0)
        assert isinstance(device, BlindActuator)
        bus.attach(device)
        bus.attach(reports)
        blinds.append(device)
        return bus, device, reports

    yield make
    for blind in blinds:
        blind.cancel_pending()


async def test_down_travels_over_time_reporting_on_the_way_and_at_the_end(
    make_blind: MakeBlind,
) -> None:
    bus, blind, reports = make_blind()
    _write(bus, UP_DOWN, "1.008", True)
    assert blind.moving
    assert await reports.next(SLAT_STATUS) == 100  # the slats close going down
    seen = await reports.until(POSITION_STATUS, 100)
    assert len(seen) >= 3, seen  # reported while travelling, not just at the end
    assert seen == sorted(seen)
    assert not blind.moving
    assert blind.position == 100

    _write(bus, UP_DOWN, "1.008", False)
    assert await reports.next(SLAT_STATUS) == 0
    seen = await reports.until(POSITION_STATUS, 0)
    assert seen == sorted(seen, reverse=True)


async def test_a_late_tick_near_the_end_does_not_report_the_end_before_arrival(
    make_blind: MakeBlind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick delayed by a busy machine lands at 99.6 %: rounding would report 100 while the
    blind still moves, and a watcher would take the travel for ended."""
    from custom_components.knx_secure.knx.devices import blind as blind_module  # noqa: PLC0415

    now = [1000.0]
    monkeypatch.setattr(blind_module, "_now", lambda: now[0])
    bus, blind, reports = make_blind()
    moving_when_reported: list[tuple[int, bool]] = []

    class Watcher:
        def deliver(self, frame: LData) -> None:
            if frame.src == DEVICE and frame.dst == POSITION_STATUS:
                value = PERCENT.decode(cemi.parse_group_apdu(frame.tpdu).value or b"")
                assert isinstance(value, int)
                moving_when_reported.append((value, blind.moving))

    bus.attach(Watcher())  # type: ignore[arg-type]
    blind.operate(down=True)
    now[0] += 0.996 * 0.5  # 99.6 % of the 0.5 s travel
    blind._tick(blind._generation)  # the late tick
    now[0] += 0.01
    blind._tick(blind._generation)  # the arrival
    await reports.until(POSITION_STATUS, 100)
    assert (100, True) not in moving_when_reported
    assert (100, False) in moving_when_reported


async def test_stop_ends_a_travel_where_the_blind_is(make_blind: MakeBlind) -> None:
    bus, blind, reports = make_blind({**SPEC, "travel_time": 2.0})  # surely on its way
    blind.operate(down=True)
    first = await reports.next(POSITION_STATUS)
    assert 0 < first < 100
    _write(bus, STOP, "1.017", True)
    assert not blind.moving
    stopped = blind.position
    assert 0 < stopped < 100
    await reports.until(POSITION_STATUS, round(stopped))  # the report where it stopped
    assert blind.position == stopped


async def test_a_short_time_command_stops_a_travel_and_turns_standing_slats(
    make_blind: MakeBlind,
) -> None:
    bus, blind, reports = make_blind()
    blind.operate(down=True)
    await reports.next(POSITION_STATUS)
    _write(bus, STEP, "1.007", True)
    assert not blind.moving
    slat = blind.slat  # closed by the travel down
    assert slat == 100

    _write(bus, STEP, "1.007", False)  # standing: one step up
    assert blind.slat == 80
    await reports.until(SLAT_STATUS, 80)
    _write(bus, STEP, "1.007", True)
    assert blind.slat == 100


async def test_a_position_command_travels_there(make_blind: MakeBlind) -> None:
    bus, blind, reports = make_blind()
    _write(bus, POSITION, "5.001", 40)
    seen = await reports.until(POSITION_STATUS, 40)
    assert seen[-1] == 40
    assert blind.position == 40
    _write(bus, POSITION, "5.001", 40)  # already there: no travel
    assert not blind.moving


async def test_the_slat_angle_is_set_and_reported(make_blind: MakeBlind) -> None:
    bus, blind, reports = make_blind()
    _write(bus, SLAT, "5.001", 60)
    assert await reports.next(SLAT_STATUS) == 60
    assert blind.slat == 60


async def test_reads_are_answered_with_the_current_position_and_slat(make_blind: MakeBlind) -> None:
    bus, _blind, reports = make_blind({**SPEC, "start_position": 30, "start_slat": 10})
    for address, expected in ((POSITION_STATUS, 30), (SLAT_STATUS, 10)):
        _send(bus, address, cemi.group_value_read())
        dst, apci, value = await asyncio.wait_for(reports.queue.get(), LIMIT)
        assert value is not None
        assert (dst, apci, PERCENT.decode(value)) == (
            address,
            APCI.GROUP_VALUE_RESPONSE,
            expected,
        )


async def test_a_new_command_takes_over_a_travel(make_blind: MakeBlind) -> None:
    _bus, blind, reports = make_blind({**SPEC, "start_position": 50})
    blind.operate(down=True)
    await reports.next(POSITION_STATUS)
    blind.move_to(0)
    seen = await reports.until(POSITION_STATUS, 0)
    assert seen == sorted(seen, reverse=True)
    assert blind.position == 0


async def test_a_payload_of_another_type_is_ignored(make_blind: MakeBlind) -> None:
    bus, blind, _reports = make_blind()
    _send(bus, POSITION, cemi.group_value_write(b"\x01\x02"))  # two octets: not 5.001
    _send(bus, UP_DOWN, cemi.group_value_write(b"\x01\x02"))
    assert not blind.moving
    assert blind.position == 0


def test_a_blind_refuses_a_plain_write_to_a_secured_address(keyring: Keyring) -> None:
    dropped: Counter[str] = Counter()
    bus = Bus(dropped)
    spec = {**SPEC, "up_down": "1/1/1"}  # has a key in the Secure Test keyring
    bus.attach(DEVICE_KINDS["blind"](DEVICE, keyring, bus, spec, status_delay=0))
    _write(bus, GroupAddress.parse("1/1/1"), "1.008", True)
    assert dropped == Counter({"plain": 1})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({k: v for k, v in SPEC.items() if k != "up_down"}, "up_down: missing"),
        ({k: v for k, v in SPEC.items() if k != "position_status"}, "position_status: missing"),
        ({**SPEC, "stop": 7.5}, "stop: a group address is text"),
        ({**SPEC, "slat": "1/x"}, "slat: "),
        ({**SPEC, "travel_time": 0}, "travel_time: 0 is outside"),
        ({**SPEC, "travel_time": "fast"}, "travel_time: a number"),
        ({**SPEC, "start_position": 101}, "start_position: 101 is outside"),
        ({**SPEC, "start_slat": -1}, "start_slat: -1 is outside"),
    ],
)
def test_a_bad_blind_spec_names_the_field(
    keyring: Keyring, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(InstallationError, match=message):
        DEVICE_KINDS["blind"](DEVICE, keyring, Bus(Counter()), spec, status_delay=0)
