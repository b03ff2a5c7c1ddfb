"""An installation of real size: its address plan, its keyring, its entities and its gateway.

    .venv/bin/python -m bench.scale write OUT_DIR   # writes OUT_DIR/Scale Home.knxkeys
    .venv/bin/python -m bench.scale serve KEYRING   # its gateway, until stdin closes

The plan (``PLAN``): 300 devices (the IP Secure gateway 1.1.0 with 8 tunnels, 1.1.241-248,
and 299 bus devices on lines 1.2 to 1.5) and 2,000 group addresses: 150 switch actuators with
4 channels (write + status, main group 1, Data Secure), 50 dimmer actuators with 2 channels
(switch, status, brightness, brightness status; main group 2, plain), 49 blind actuators and
50 room controllers (4 addresses each; main groups 3 and 4, Data Secure) and 4 central plain
addresses (main group 0). 1,596 addresses are Data Secure; every tunnel may receive them all,
each from the device that sends on it.

Everything comes from fixed seeds: the file is the same, byte for byte, on every run (the
encryption's random prefixes too), so benchmarks and tests generate it where they need it
(a temporary directory) instead of keeping a 0.5 MB file in the repository.

``ENTITY_MIX`` is the entry of 500 entities on this plan, one row per platform: it grows
when a platform lands (its row says how many entities and which addresses they use).
``gateway()`` is a VirtualGateway of the keyring whose switch actuators (every channel of
the plan) answer every status read.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import SwitchSpec
from custom_components.knx_secure.knx.gateway import VirtualGateway
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
KINDS: Final = (
    Kind("switch", 150, 1, True, _channels(4, *SWITCH_OBJECTS)),
    Kind(
        "dimmer",
        50,
        2,
        False,
        _channels(
            2,
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
class Plan:
    addresses: tuple[Address, ...]
    devices: tuple[IndividualAddress, ...]  # the bus devices (not the gateway)
    #: Every switch actuator channel: (write, status, device), in plan order.
    switch_channels: tuple[SwitchSpec, ...]


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
                channels += [SwitchSpec(own[i], own[i + 1], device) for i in range(0, len(own), 2)]
    return Plan(tuple(addresses), tuple(devices), tuple(channels))


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


def _switches(channels: tuple[SwitchSpec, ...]) -> list[EntitySpec]:
    return [
        (
            "switch",
            f"Switch {spec.write_ga}",
            {
                "name": f"Switch {spec.write_ga}",
                "write_address": str(spec.write_ga),
                "state_address": str(spec.status_ga),
                "invert": False,
            },
        )
        for spec in channels
    ]


def _binary_sensors(channels: tuple[SwitchSpec, ...]) -> list[EntitySpec]:
    return [
        (
            "binary_sensor",
            f"Status {spec.status_ga}",
            {
                "name": f"Status {spec.status_ga}",
                "state_address": str(spec.status_ga),
                "invert": False,
                "sync_state": True,
            },
        )
        for spec in channels
    ]


#: platform -> (how many entities, builder from that many switch channels). A platform that
#: lands adds its row here (and takes the addresses of its kind in ``PLAN``); the total stays
#: 500, so the other rows shrink.
ENTITY_MIX: Final[dict[str, tuple[int, Callable[[tuple[SwitchSpec, ...]], list[EntitySpec]]]]] = {
    "switch": (300, _switches),
    "binary_sensor": (200, _binary_sensors),
}


def entities() -> list[EntitySpec]:
    """The entry's entities: each row of ENTITY_MIX on its own switch channels."""
    specs: list[EntitySpec] = []
    start = 0
    for count, build in ENTITY_MIX.values():
        specs += build(PLAN.switch_channels[start : start + count])
        start += count
    return specs


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


def expected_first_states() -> dict[str, bool]:
    """Name of each entity of ``entities()`` -> the state its status read brings (on?)."""
    by_status = {spec.status_ga: spec for spec in PLAN.switch_channels}
    return {
        name: relay_on(by_status[GroupAddress.parse(str(data["state_address"]))])
        for _platform, name, data in entities()
    }


def relay_on(spec: SwitchSpec) -> bool:
    """The relay state the benchmark's gateway starts with: every other channel on (a first
    state can then only come from the status read, not from a default)."""
    return spec.write_ga.raw % 4 == 1


def gateway(keyring: Keyring, *, port: int = 0) -> VirtualGateway:
    """A VirtualGateway of the plan: every switch channel simulated, relays as relay_on."""
    server = VirtualGateway(
        keyring, host=GATEWAY, switches=PLAN.switch_channels, status_delay=0, port=port
    )
    for spec in PLAN.switch_channels:
        if relay_on(spec):
            server.set_switch(spec.write_ga, True)
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
