"""The scale home's ETS project: bench/scale.py's plan as an ETS 6 ``.knxproj``.

    .venv/bin/python -m bench.project OUT_DIR   # writes OUT_DIR/Scale Home.knxproj

Its 2,000 group addresses are the plan's (names, datapoint types, Data Secure as in the scale
keyring), its 300 devices the gateway 1.1.0 and the plan's bus devices (named after their kind:
"switch actuator 17"), one room for every ten devices, and one ETS 6 function for every
channel: a switchable light per switch channel, a dimmable light per dimmer, a sun protection
per blind, a heating per room controller, a custom function per value actuator (599
functions). Written by
``demo/ets_project.py``, the same bytes on every run, so the benchmark writes it to a
temporary directory instead of keeping it in the repository.
"""

from __future__ import annotations

import importlib
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

from bench import scale
from bench.common import ROOT

if str(ROOT / "demo") not in sys.path:
    sys.path.insert(0, str(ROOT / "demo"))
ets: Any = importlib.import_module("ets_project")

FILE_NAME: Final = "Scale Home.knxproj"
PROTECTED_FILE_NAME: Final = "Scale Home (protected).knxproj"
PASSWORD: Final = "scale"  # noqa: S105 - a generated test project's published password
DEVICES_PER_ROOM: Final = 10
BLIND_POSITION_STATUS: Final = "CurrentAbsolutePositionBlindsPercentage"
#: (function type, role of each of the kind's objects per channel) by the plan's kind.
FUNCTIONS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "switch": ("FT-1", ("SwitchOnOff", "InfoOnOff")),
    "dimmer": ("FT-6", ("SwitchOnOff", "InfoOnOff", "DimmingValue", "InfoDimmingValue")),
    "blind": ("FT-7", ("MoveUpDown", "StopStepUpDown", "", BLIND_POSITION_STATUS)),
    "room": ("FT-9", ("TempRoom", "TempRoomSetpoint", "InfoTempRoomSetpoint", "")),
    "value": ("FT-0", ("",) * len(scale.VALUE_OBJECTS)),  # custom: one per value actuator
}


def _device_names() -> dict[str, str]:
    """Each bus device's name: its kind and its number within the kind."""
    names: dict[str, str] = {}
    devices = iter(scale.PLAN.devices)
    for kind in scale.KINDS:
        for number in range(1, kind.count + 1):
            names[str(next(devices))] = f"{kind.name} actuator {number}"
    return names


def _functions(rooms: dict[str, str]) -> list[Any]:
    """One function per channel, in the room of the channel's device."""
    by_device: dict[str, list[scale.Address]] = defaultdict(list)
    for address in scale.PLAN.addresses:
        if address.device is not None:
            by_device[str(address.device)].append(address)
    names = _device_names()
    functions = []
    for device, addresses in by_device.items():
        kind = names[device].split(" ", 1)[0]
        function_type, roles = FUNCTIONS[kind]
        for start in range(0, len(addresses), len(roles)):
            channel = addresses[start : start + len(roles)]
            label = f"{names[device]} channel {start // len(roles) + 1}"
            pairs = tuple((role, str(a.ga)) for role, a in zip(roles, channel, strict=True))
            functions.append(ets.FunctionSpec(label, function_type, rooms[device], pairs))
    return functions


def project_spec(password: str | None = None) -> Any:
    """The plan as an ETS 6 project (protected with ``password`` if given)."""
    names = {str(scale.GATEWAY): "IP Secure gateway"} | _device_names()
    ordered = list(names)
    rooms = {
        device: f"Room {index // DEVICES_PER_ROOM + 1}" for index, device in enumerate(ordered)
    }
    room_specs = tuple(
        ets.RoomSpec(room, "SU-4", tuple(d for d in ordered if rooms[d] == room))
        for room in dict.fromkeys(rooms.values())
    )
    return ets.ProjectSpec(
        name=scale.PROJECT,
        ets=6,
        project_id="P-05CA",
        addresses=tuple(
            ets.GroupAddressSpec(str(a.ga), a.name, a.dpt, secure=a.secure)
            for a in scale.PLAN.addresses
        ),
        devices=tuple(ets.DeviceSpec(address, name) for address, name in names.items()),
        area_names={"1": "Scale Home"},
        rooms=room_specs,
        functions=tuple(_functions(rooms)),
        password=password,
    )


def write(directory: Path, *, protected: bool = False) -> Path:
    """Write the project into directory; return its path."""
    path = directory / (PROTECTED_FILE_NAME if protected else FILE_NAME)
    ets.write_project(project_spec(PASSWORD if protected else None), path)
    return path


if __name__ == "__main__":
    for protected in (False, True):
        print(write(Path(sys.argv[1]), protected=protected))
