"""An installation of real size: its address plan, its keyring, its entities and its gateway.

    .venv/bin/python -m bench.scale write OUT_DIR   # writes OUT_DIR/Scale Home.knxkeys
    .venv/bin/python -m bench.scale serve KEYRING   # its gateway, until stdin closes

The plan (``PLAN``): 300 devices (the IP Secure gateway 1.1.0 with 8 tunnels, 1.1.241-248,
and 299 bus devices on lines 1.2 to 1.4) and 2,000 group addresses: 100 switch actuators with
4 channels (write + status, main group 1, Data Secure), 50 dimmers (switch, status,
brightness, brightness status; main group 2, plain), 49 blind actuators and 50 room
controllers (4 addresses each; main groups 3 and 4), 50 value actuators (6 objects with their
status: a percentage, a program 5.010, a text, a temperature, a humidity, a power; main group
5) and 4 central plain addresses (main group 0). 1,796 addresses are Data Secure; every tunnel
may receive them all, each from the device that sends on it.

Everything comes from fixed seeds: the file is the same, byte for byte, on every run (the
encryption's random prefixes too), so benchmarks and tests generate it where they need it
(a temporary directory) instead of keeping a 0.5 MB file in the repository.

``ENTITY_MIX`` is the entry of 500 entities on this plan, one row per platform (switch,
binary sensor, light, cover, climate, number, select, numeric and text sensor), each on
devices of its kind; ``expected_first_states()`` says what each shows once its status read
is answered. ``gateway()`` is a VirtualGateway of the keyring with every device simulated,
each starting in a pattern (so a first state can only come from its read) and answering
every status read.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import Dimmer, SwitchSpec
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.installation import install, parse_installation
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.keyring_writer import keyring_from_summary, write_keyring

FILE_NAME: Final = "Scale Home.knxkeys"
PASSWORD: Final = "scale"  # noqa: S105 - a generated test installation's published password
PROJECT: Final = "Scale Home"
CREATED: Final = "2026-01-01T00:00:00"
GATEWAY: Final = IndividualAddress.parse("1.1.0")
TUNNELS: Final = tuple(IndividualAddress.parse(f"1.1.{241 + n}") for n in range(8))
SEED: Final = "knx-secure scale home"


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of device in the plan: how many, where its addresses are, what they carry."""

    name: str
    count: int
    main_group: int
    secure: bool
    #: (name, datapoint type) of each group address of one device, in order.
    objects: tuple[tuple[str, str], ...]


def _channels(count: int, *objects: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((f"{name} {n}", dpt) for n in range(1, count + 1) for name, dpt in objects)


SWITCH_OBJECTS: Final = (("switch", "1.001"), ("status", "1.001"))
#: A value actuator's objects: each a write address and its status (16.000: a text).
VALUE_OBJECTS: Final = (
    ("number", "5.001"),
    ("number status", "5.001"),
    ("program", "5.010"),
    ("program status", "5.010"),
    ("text", "16.000"),
    ("text status", "16.000"),
    ("temperature", "9.001"),
    ("temperature status", "9.001"),
    ("humidity", "9.007"),
    ("humidity status", "9.007"),
    ("power", "14.056"),
    ("power status", "14.056"),
)
KINDS: Final = (
    Kind("switch", 100, 1, True, _channels(4, *SWITCH_OBJECTS)),
    Kind(
        "dimmer",
        50,
        2,
        False,
        (
            ("switch", "1.001"),
            ("status", "1.001"),
            ("brightness", "5.001"),
            ("brightness status", "5.001"),
        ),
    ),
    Kind(
        "blind",
        49,
        3,
        True,
        (
            ("up/down", "1.008"),
            ("stop", "1.017"),
            ("position", "5.001"),
            ("position status", "5.001"),
        ),
    ),
    Kind(
        "room",
        50,
        4,
        True,
        (
            ("temperature", "9.001"),
            ("setpoint", "9.001"),
            ("setpoint status", "9.001"),
            ("heating", "1.001"),
        ),
    ),
    Kind("value", 50, 5, True, VALUE_OBJECTS),
)
CENTRAL: Final = (
    ("all off", "1.001"),
    ("alarm", "1.005"),
    ("date", "11.001"),
    ("time", "10.001"),
)


@dataclass(frozen=True, slots=True)
class Address:
    """One group address of the plan."""

    ga: GroupAddress
    name: str
    dpt: str
    device: IndividualAddress | None  # None: sent by nobody in particular (central)
    secure: bool


@dataclass(frozen=True, slots=True)
class Device:
    """One bus device of the plan and its group addresses, in its kind's object order."""

    address: IndividualAddress
    groups: tuple[GroupAddress, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    addresses: tuple[Address, ...]
    devices: tuple[IndividualAddress, ...]  # the bus devices (not the gateway)
    #: Every switch actuator channel: (write, status, device), in plan order.
    switch_channels: tuple[SwitchSpec, ...]
    #: The devices of each kind (``KINDS``' names), in plan order; for "switch" each channel
    #: (its write and status address) on its actuator.
    of_kind: dict[str, tuple[Device, ...]]


def _device_addresses() -> Iterator[IndividualAddress]:
    """1.2.1 .. 1.2.100, 1.3.1 .. : 100 devices a line."""
    line = 2
    while True:
        for device in range(1, 101):
            yield IndividualAddress.parse(f"1.{line}.{device}")
        line += 1


def make_plan() -> Plan:
    addresses: list[Address] = [
        Address(GroupAddress(index + 1), name, dpt, None, False)
        for index, (name, dpt) in enumerate(CENTRAL)
    ]
    devices: list[IndividualAddress] = []
    channels: list[SwitchSpec] = []
    of_kind: dict[str, list[Device]] = {}
    numbers = _device_addresses()
    for kind in KINDS:
        used = 0  # group addresses of the main group so far
        for number in range(1, kind.count + 1):
            device = next(numbers)
            devices.append(device)
            own: list[GroupAddress] = []
            for name, dpt in kind.objects:
                ga = GroupAddress((kind.main_group << 11) | (used + 1))  # x/0/1 upward
                used += 1
                own.append(ga)
                text = f"{kind.name} {number} {name}"
                addresses.append(Address(ga, text, dpt, device, kind.secure))
            if kind.name == "switch":
                pairs = [(own[i], own[i + 1]) for i in range(0, len(own), 2)]
                channels += [SwitchSpec(write, status, device) for write, status in pairs]
                of_kind.setdefault(kind.name, []).extend(Device(device, pair) for pair in pairs)
            else:
                of_kind.setdefault(kind.name, []).append(Device(device, tuple(own)))
    kinds = {name: tuple(found) for name, found in of_kind.items()}
    return Plan(tuple(addresses), tuple(devices), tuple(channels), kinds)


PLAN: Final = make_plan()


def summary() -> dict[str, object]:
    """The keyring's content in the layout ``keyring FILE --show-secrets`` prints."""
    keys = random.Random(SEED)
    secure = [a for a in PLAN.addresses if a.secure]
    senders = {str(a.ga): [str(a.device)] for a in secure if a.device is not None}
    interfaces = [
        {
            "type": "Tunneling",
            "individual_address": str(tunnel),
            "host": str(GATEWAY),
            "user_id": number + 2,
            "password": f"tunnel-{number + 1}",
            "device_authentication": "scale-gateway",
            "group_addresses": senders,
        }
        for number, tunnel in enumerate(TUNNELS)
    ]
    devices: list[dict[str, object]] = [
        {
            "individual_address": str(GATEWAY),
            "sequence_number": 1_000_000,
            "tool_key": keys.randbytes(16).hex(),
            "management_password": "scale-management",
            "authentication": "scale-gateway",
            "serial_number": "00fa10010000",
        }
    ]
    devices += [
        {
            "individual_address": str(device),
            "sequence_number": 2_000_000 + number * 1_000,
            "tool_key": keys.randbytes(16).hex(),
            "management_password": None,
            "authentication": None,
        }
        for number, device in enumerate(PLAN.devices)
    ]
    return {
        "project": PROJECT,
        "created": CREATED,
        "created_by": "bench/scale.py",
        "backbone": None,
        "interfaces": interfaces,
        "group_keys": {str(a.ga): keys.randbytes(16).hex() for a in secure},
        "devices": devices,
    }


def keyring_bytes() -> bytes:
    """The .knxkeys file of the plan (the same bytes on every call; PBKDF2 once)."""
    prefixes = random.Random(SEED + " prefixes")
    return write_keyring(keyring_from_summary(summary()), PASSWORD, random_bytes=prefixes.randbytes)


def write(directory: Path) -> Path:
    """Write the keyring into directory; return its path."""
    path = directory / FILE_NAME
    path.write_bytes(keyring_bytes())
    return path


# --- the entry of 500 entities ---------------------------------------------------------------

#: One entity: (platform, name, subentry data). The data's keys are the platform's subentry
#: fields (strings, as the subentry flow stores them).
type EntitySpec = tuple[str, str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class FirstState:
    """What an entity shows once its status read is answered: its state (``attribute``
    None) or one attribute, as text or as a number (compared as numbers)."""

    value: str | float
    attribute: str | None = None

    def seen_in(self, state: str, attributes: Mapping[str, object]) -> bool:
        shown = state if self.attribute is None else attributes.get(self.attribute)
        if isinstance(self.value, str):
            return shown == self.value
        try:
            return float(str(shown)) == self.value
        except ValueError:
            return False


@dataclass(frozen=True, slots=True)
class Entity:
    platform: str
    name: str
    data: dict[str, object]
    first: FirstState

    @property
    def spec(self) -> EntitySpec:
        return (self.platform, self.name, self.data)


def relay_on(spec: SwitchSpec) -> bool:
    """The relay state the benchmark's gateway starts with: every other channel on (a first
    state can then only come from the status read, not from a default)."""
    return spec.write_ga.raw % 4 == 1


def _on_off(on: bool) -> FirstState:
    return FirstState("on" if on else "off")


# The start values of the simulated devices, by their number in their kind: each in a pattern,
# so that a first state can only come from its status read.
def dimmer_on(number: int) -> bool:
    return number % 2 == 0


def blind_closed(number: int) -> bool:
    return number % 2 == 1


def room_temperature(number: int) -> float:
    return 18.0 + (number % 8) * 0.5  # exact in DPT 9.001


def number_value(number: int) -> float:
    return float((number % 5 + 1) * 20)  # exact in 5.001's octet (20 % = 51)


PROGRAMS: Final = ("Off", "Low", "High")  # the select's options, 0..2 (DPT 5.010)


def program_value(number: int) -> int:
    return number % len(PROGRAMS)


def text_value(number: int) -> str:
    return f"Room {number + 1}"


def temperature_value(number: int) -> float:
    return 15.0 + (number % 20) * 0.5


def _channel(device: Device) -> SwitchSpec:
    write, status = device.groups
    return SwitchSpec(write, status, device.address)


def _switch(_number: int, device: Device) -> Entity:
    spec = _channel(device)
    name = f"Switch {spec.write_ga}"
    data = {
        "name": name,
        "write_address": str(spec.write_ga),
        "state_address": str(spec.status_ga),
        "invert": False,
    }
    return Entity("switch", name, data, _on_off(relay_on(spec)))


def _binary_sensor(_number: int, device: Device) -> Entity:
    spec = _channel(device)
    name = f"Status {spec.status_ga}"
    data = {"name": name, "state_address": str(spec.status_ga), "invert": False, "sync_state": True}
    return Entity("binary_sensor", name, data, _on_off(relay_on(spec)))


def _light(number: int, device: Device) -> Entity:
    switch, status, brightness, brightness_status = map(str, device.groups)
    name = f"Light {switch}"
    data = {
        "name": name,
        "switch_address": switch,
        "switch_state_address": status,
        "brightness_address": brightness,
        "brightness_state_address": brightness_status,
    }
    return Entity("light", name, data, _on_off(dimmer_on(number)))


def _cover(number: int, device: Device) -> Entity:
    up_down, stop, position, position_status = map(str, device.groups)
    name = f"Blind {up_down}"
    data = {
        "name": name,
        "up_down_address": up_down,
        "stop_address": stop,
        "stop_dpt": "1.017",
        "position_address": position,
        "position_state_address": position_status,
        "travel_time_down": 20.0,
        "travel_time_up": 20.0,
        "invert_up_down": False,
        "invert_position": False,
        "invert_angle": False,
    }
    return Entity("cover", name, data, FirstState("closed" if blind_closed(number) else "open"))


def _climate(number: int, device: Device) -> Entity:
    temperature, setpoint, setpoint_status, heating = map(str, device.groups)
    name = f"Room {temperature}"
    data = {
        "name": name,
        "temperature_address": temperature,
        "target_temperature_address": setpoint,
        "target_temperature_state_address": setpoint_status,
        "on_off_address": heating,
        "invert": False,
        "min_temp": 7.0,
        "max_temp": 28.0,
        "temperature_step": 0.5,
    }
    return Entity(
        "climate", name, data, FirstState(room_temperature(number), "current_temperature")
    )


def _value(device: Device, index: int) -> tuple[str, str]:
    """The write address and status of the value actuator's object ``index``."""
    return str(device.groups[2 * index]), str(device.groups[2 * index + 1])


def _number(number: int, device: Device) -> Entity:
    write, status = _value(device, 0)
    name = f"Number {write}"
    data = {
        "name": name,
        "write_address": write,
        "state_address": status,
        "value_type": "5.001",
        "mode": "slider",
        "respond_to_read": False,
    }
    return Entity("number", name, data, FirstState(number_value(number)))


def _select(number: int, device: Device) -> Entity:
    write, status = _value(device, 1)
    name = f"Program {write}"
    options = "".join(f"{label} = {value}\n" for value, label in enumerate(PROGRAMS))
    data = {
        "name": name,
        "write_address": write,
        "state_address": status,
        "value_type": "5.010",
        "options": options,
        "respond_to_read": False,
    }
    return Entity("select", name, data, FirstState(PROGRAMS[program_value(number)]))


def _sensor(name: str, address: str, dpt: str, first: FirstState) -> Entity:
    data = {
        "name": name,
        "state_address": address,
        "value_type": dpt,
        "sync_state": True,
        "always_record": False,
    }
    return Entity("sensor", name, data, first)


def _text_sensor(number: int, device: Device) -> Entity:
    _write, status = _value(device, 2)
    return _sensor(f"Text {status}", status, "16.000", FirstState(text_value(number)))


def _temperature_sensor(number: int, device: Device) -> Entity:
    _write, status = _value(device, 3)
    first = FirstState(temperature_value(number))
    return _sensor(f"Temperature {status}", status, "9.001", first)


@dataclass(frozen=True, slots=True)
class Row:
    """A row of the entry: how many entities, on which kind of device of the plan (for
    "switch" its channels), each made by ``build`` from the device and its number."""

    count: int
    kind: str
    build: Callable[[int, Device], Entity]


#: The entry's rows, one per platform (sensors: one numeric, one text). Rows of a kind take
#: its devices in turn (a value actuator's rows each take one object of every device), so no
#: address is used twice; the total is 500.
ENTITY_MIX: Final[dict[str, Row]] = {
    "switch": Row(120, "switch", _switch),
    "binary_sensor": Row(80, "switch", _binary_sensor),
    "light": Row(50, "dimmer", _light),
    "cover": Row(49, "blind", _cover),
    "climate": Row(50, "room", _climate),
    "number": Row(40, "value", _number),
    "select": Row(30, "value", _select),
    "sensor (numeric)": Row(50, "value", _temperature_sensor),
    "sensor (text)": Row(31, "value", _text_sensor),
}
#: The value actuators' rows take every device (each row its own object of it): numbers
#: from the first device on, the others likewise.
_SHARED_DEVICES: Final = frozenset({"value"})


def entity_list() -> list[Entity]:
    """The entry's entities, row by row."""
    found: list[Entity] = []
    taken: dict[str, int] = {}
    for row in ENTITY_MIX.values():
        start = 0 if row.kind in _SHARED_DEVICES else taken.get(row.kind, 0)
        taken[row.kind] = start + row.count
        for number in range(start, start + row.count):
            found.append(row.build(number, PLAN.of_kind[row.kind][number]))
    return found


def entities() -> list[EntitySpec]:
    """The entry's entities as (platform, name, subentry data)."""
    return [entity.spec for entity in entity_list()]


def expected_first_states() -> dict[str, FirstState]:
    """Name of each entity of ``entities()`` -> what its status read makes it show."""
    return {entity.name: entity.first for entity in entity_list()}


def entry_data(keyring_file: str, port: int) -> dict[str, object]:
    """Our config entry's data for the plan's gateway on 127.0.0.1 (automatic tunnel)."""
    from custom_components.knx_secure.const import (  # noqa: PLC0415 - Home Assistant only here
        CONF_GATEWAY_ADDRESS,
        CONF_GATEWAY_NAME,
        CONF_KEYRING_FILE,
        CONF_KEYRING_PASSWORD,
        CONF_PROJECT,
        CONF_TUNNEL,
        TUNNEL_AUTOMATIC,
    )

    return {
        CONF_KEYRING_FILE: keyring_file,
        CONF_KEYRING_PASSWORD: PASSWORD,
        CONF_PROJECT: PROJECT,
        "host": "127.0.0.1",
        "port": port,
        CONF_GATEWAY_ADDRESS: str(GATEWAY),
        CONF_GATEWAY_NAME: "",
        CONF_TUNNEL: TUNNEL_AUTOMATIC,
    }


def subentries_data(specs: list[EntitySpec]) -> list[dict[str, object]]:
    """The entry's subentries (as MockConfigEntry takes them) for these entities."""
    return [
        {"data": data, "subentry_type": platform, "title": name, "unique_id": None}
        for platform, name, data in specs
    ]


# --- the gateway -----------------------------------------------------------------------------


def _dimmer_entry(_number: int, device: Device) -> dict[str, object]:
    switch, status, brightness, brightness_status = map(str, device.groups)
    return {
        "kind": "dimmer",
        "switch": switch,
        "switch_status": status,
        "brightness": brightness,
        "brightness_status": brightness_status,
    }


def _blind_entry(number: int, device: Device) -> dict[str, object]:
    up_down, stop, position, position_status = map(str, device.groups)
    return {
        "kind": "blind",
        "up_down": up_down,
        "stop": stop,
        "position": position,
        "position_status": position_status,
        "start_position": 100.0 if blind_closed(number) else 0.0,
    }


def _room_entry(number: int, device: Device) -> dict[str, object]:
    temperature, setpoint, setpoint_status, heating = map(str, device.groups)
    return {
        "kind": "room_controller",
        "temperature": temperature,
        "setpoint": setpoint,
        "setpoint_status": setpoint_status,
        "on_off": heating,
        "start_temperature": room_temperature(number),
        "drift": 86400,  # the room stays at its start temperature
    }


def _value_entry(number: int, device: Device) -> dict[str, object]:
    starts = (
        number_value(number),
        program_value(number),
        text_value(number),
        temperature_value(number),
        45.0,  # humidity
        1200.0,  # power
    )
    types = [dpt for _name, dpt in VALUE_OBJECTS[::2]]
    objects = []
    for index, (dpt, value) in enumerate(zip(types, starts, strict=True)):
        write, status = _value(device, index)
        objects.append({"address": write, "status": status, "dpt": dpt, "value": value})
    return {"kind": "value_actuator", "objects": objects}


#: The installation file entry of each simulated kind but the switches (the gateway's own).
INSTALLATION_ENTRIES: Final[dict[str, Callable[[int, Device], dict[str, object]]]] = {
    "dimmer": _dimmer_entry,
    "blind": _blind_entry,
    "room": _room_entry,
    "value": _value_entry,
}


def installation() -> dict[str, object]:
    """The installation file of the plan's devices but the switches, each starting in its
    pattern (the dimmers are switched on by ``gateway``)."""
    return {
        "devices": [
            {**entry(number, device), "address": str(device.address)}
            for kind, entry in INSTALLATION_ENTRIES.items()
            for number, device in enumerate(PLAN.of_kind[kind])
        ]
    }


def gateway(keyring: Keyring, *, port: int = 0) -> VirtualGateway:
    """A VirtualGateway of the plan: every device simulated (the switch channels' relays as
    relay_on, the others in their start patterns), answering every status read. Called in
    the event loop (a dimmer switched on reports it)."""
    server = VirtualGateway(
        keyring, host=GATEWAY, switches=PLAN.switch_channels, status_delay=0, port=port
    )
    for spec in PLAN.switch_channels:
        if relay_on(spec):
            server.set_switch(spec.write_ga, True)
    document = json.dumps(installation())
    install(server, parse_installation(document), status_delay=0)
    for number, device in enumerate(PLAN.of_kind["dimmer"]):
        if dimmer_on(number):
            dimmer = server.device(device.address)
            assert isinstance(dimmer, Dimmer)
            dimmer.operate(True)
    return server


async def _serve(path: Path) -> None:
    """Run the plan's gateway on a free port of 127.0.0.1 until stdin closes; print the
    ready line (JSON, with the port) first."""
    keyring = load_keyring(path, PASSWORD)
    server = gateway(keyring)
    await server.start()
    try:
        sys.stdout.write(json.dumps(server.ready_line()) + "\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # the parent closes it to stop us
    finally:
        await server.stop()


def main(argv: list[str]) -> int:
    """``write OUT_DIR``: write the keyring; ``serve KEYRING``: run its gateway."""
    if len(argv) == 2 and argv[0] == "write":
        path = write(Path(argv[1]))
        sys.stdout.write(f"wrote {path}\n")
        return 0
    if len(argv) == 2 and argv[0] == "serve":
        asyncio.run(_serve(Path(argv[1])))
        return 0
    sys.stderr.write("usage: python -m bench.scale write OUT_DIR | serve KEYRING\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
