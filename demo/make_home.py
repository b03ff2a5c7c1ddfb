"""Write the demo home's keyring, ``demo/Demo Home.knxkeys`` (password ``demo``), and its ETS
project, ``demo/Demo Home.knxproj`` (ETS 6, not protected).

    .venv/bin/python demo/make_home.py [--project]   (--project: the .knxproj only)

The home is the seed installation (gateway 1.1.0, tunnels 1.1.252-255, the actuator 1.1.1 on
1/1/1 -> 1/1/2, its backbone key) plus one room of every kind of device. ``ADDRESSES`` is the
address plan (docs/DEMO.md shows it): every address of main group 1 is Data Secure, with the
tunnels and its device as senders; main group 2 is plain. Keys come from a fixed seed, so the
file's content is the same on every run (only the encryption's random prefixes differ).
"""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

DEMO = Path(__file__).resolve().parent
ROOT = DEMO.parent
if str(DEMO) not in sys.path:
    sys.path.insert(0, str(DEMO))
ets: Any = importlib.import_module("ets_project")  # demo/ets_project.py, the .knxproj writer
SOURCE: Final = DEMO / "Secure Test.knxkeys"
SOURCE_PASSWORD: Final = "passwordprogetto"  # noqa: S105 - the demo keyring's published password
OUT: Final = DEMO / "Demo Home.knxkeys"
PROJECT_OUT: Final = DEMO / "Demo Home.knxproj"
PASSWORD: Final = "demo"  # noqa: S105 - the demo home's published password
TUNNELS: Final = ("1.1.252", "1.1.253", "1.1.254", "1.1.255")

#: (group address, name, datapoint type, device that sends on it). Main group 1 is secure.
ADDRESSES: Final = (
    ("1/1/1", "Seed actuator switch", "1.001", "1.1.1"),
    ("1/1/2", "Seed actuator status", "1.001", "1.1.1"),
    ("1/2/1", "Living room light switch", "1.001", "1.1.2"),
    ("1/2/2", "Living room light status", "1.001", "1.1.2"),
    ("1/2/3", "Living room light brightness", "5.001", "1.1.2"),
    ("1/2/4", "Living room light brightness status", "5.001", "1.1.2"),
    ("1/2/11", "Kitchen colour light switch", "1.001", "1.1.3"),
    ("1/2/12", "Kitchen colour light status", "1.001", "1.1.3"),
    ("1/2/13", "Kitchen colour light brightness", "5.001", "1.1.3"),
    ("1/2/14", "Kitchen colour light brightness status", "5.001", "1.1.3"),
    ("1/2/15", "Kitchen colour light RGB", "232.600", "1.1.3"),
    ("1/2/16", "Kitchen colour light RGB status", "232.600", "1.1.3"),
    ("1/2/17", "Kitchen colour light colour temperature", "7.600", "1.1.3"),
    ("1/2/18", "Kitchen colour light colour temperature status", "7.600", "1.1.3"),
    ("1/3/1", "Living room blind up/down", "1.008", "1.1.4"),
    ("1/3/2", "Living room blind stop", "1.017", "1.1.4"),
    ("1/3/3", "Living room blind position", "5.001", "1.1.4"),
    ("1/3/4", "Living room blind position status", "5.001", "1.1.4"),
    ("1/3/5", "Living room blind slat angle", "5.001", "1.1.4"),
    ("1/3/6", "Living room blind slat angle status", "5.001", "1.1.4"),
    ("1/4/1", "Living room temperature", "9.001", "1.1.5"),
    ("1/4/2", "Living room setpoint", "9.001", "1.1.5"),
    ("1/4/3", "Living room setpoint status", "9.001", "1.1.5"),
    ("1/4/4", "Living room operation mode", "20.102", "1.1.5"),
    ("1/4/5", "Living room operation mode status", "20.102", "1.1.5"),
    ("1/4/6", "Living room controller mode", "20.105", "1.1.5"),
    ("1/4/7", "Living room controller mode status", "20.105", "1.1.5"),
    ("1/4/8", "Living room heating on/off", "1.001", "1.1.5"),
    ("1/4/9", "Living room heating on/off status", "1.001", "1.1.5"),
    ("1/5/1", "Outdoor temperature", "9.001", "1.1.6"),
    ("1/5/2", "Outdoor humidity", "9.007", "1.1.6"),
    ("1/5/3", "Outdoor brightness", "9.004", "1.1.6"),
    ("1/5/4", "Wind speed", "9.005", "1.1.6"),
    ("1/5/5", "House power", "14.056", "1.1.6"),
    ("1/5/6", "House energy", "13.013", "1.1.6"),
    # Exposes (issue 12): Home Assistant sends on these (the tunnels are senders of every
    # secure address); the hall display 1.1.30 reads them at start.
    ("1/6/201", "Outdoor temperature for the display (expose)", "9.001", "1.1.30"),
    ("1/6/202", "Time (expose)", "10.001", "1.1.30"),
    ("1/6/203", "Date (expose)", "11.001", "1.1.30"),
    ("1/6/204", "Date and time (expose)", "19.001", "1.1.30"),
    ("2/6/201", "Presence for the display (expose, plain)", "1.001", "1.1.30"),
    ("2/1/1", "Hall light switch (plain)", "1.001", "1.1.7"),
    ("2/1/2", "Hall light status (plain)", "1.001", "1.1.7"),
    ("2/5/1", "Garage temperature (plain)", "9.001", "1.1.8"),
    # Issue 12: date, time, date-time, notify (display 1.1.12), fan (1.1.13), weather (1.1.14).
    ("1/6/30", "Hall display date", "11.001", "1.1.12"),
    ("1/6/31", "Hall display date status", "11.001", "1.1.12"),
    ("1/6/32", "Hall display time", "10.001", "1.1.12"),
    ("1/6/33", "Hall display time status", "10.001", "1.1.12"),
    ("1/6/34", "Hall display date and time", "19.001", "1.1.12"),
    ("1/6/35", "Hall display date and time status", "19.001", "1.1.12"),
    ("1/6/36", "Hall display text", "16.001", "1.1.12"),
    ("1/6/40", "Bathroom fan on/off", "1.001", "1.1.13"),
    ("1/6/41", "Bathroom fan on/off status", "1.001", "1.1.13"),
    ("1/6/42", "Bathroom fan speed", "5.001", "1.1.13"),
    ("1/6/43", "Bathroom fan speed status", "5.001", "1.1.13"),
    ("1/6/44", "Bathroom fan oscillation", "1.001", "1.1.13"),
    ("1/6/45", "Bathroom fan oscillation status", "1.001", "1.1.13"),
    ("1/6/46", "Kitchen hood fan step", "5.010", "1.1.13"),
    ("1/6/47", "Kitchen hood fan step status", "5.010", "1.1.13"),
    ("1/6/50", "Weather station temperature", "9.001", "1.1.14"),
    ("1/6/51", "Weather station brightness south", "9.004", "1.1.14"),
    ("1/6/52", "Weather station brightness west", "9.004", "1.1.14"),
    ("1/6/53", "Weather station brightness east", "9.004", "1.1.14"),
    ("1/6/54", "Weather station brightness north", "9.004", "1.1.14"),
    ("1/6/55", "Weather station wind speed", "9.005", "1.1.14"),
    ("1/6/56", "Weather station wind direction", "5.003", "1.1.14"),
    ("1/6/57", "Weather station rain alarm", "1.005", "1.1.14"),
    ("1/6/58", "Weather station frost alarm", "1.005", "1.1.14"),
    ("1/6/59", "Weather station humidity", "9.007", "1.1.14"),
    ("1/6/60", "Weather station air pressure", "9.006", "1.1.14"),
    ("2/6/10", "Garage display text (plain)", "16.000", "1.1.12"),
    ("2/6/11", "Garage clock time (plain)", "10.001", "1.1.12"),
    # number, select, scene, button, text (issue 12): value actuators 1.1.9 and 1.1.11
    # (plain), scene actuator 1.1.10
    ("1/6/1", "Ventilation level", "5.001", "1.1.9"),
    ("1/6/2", "Ventilation level status", "5.001", "1.1.9"),
    ("1/6/3", "Boiler setpoint", "9.001", "1.1.9"),
    ("1/6/4", "Boiler setpoint status", "9.001", "1.1.9"),
    ("1/6/5", "Hot water mode", "20.102", "1.1.9"),
    ("1/6/6", "Hot water mode status", "20.102", "1.1.9"),
    ("1/6/7", "Fan program", "5.010", "1.1.9"),
    ("1/6/8", "Fan program status", "5.010", "1.1.9"),
    ("1/6/9", "Hall display text", "16.000", "1.1.9"),
    ("1/6/10", "Hall display text status", "16.000", "1.1.9"),
    ("1/6/11", "Door chime", "1.001", "1.1.9"),
    ("1/6/21", "Living room scenes", "17.001", "1.1.10"),
    ("2/6/1", "Garden pump level (plain)", "5.001", "1.1.11"),
    ("2/6/2", "Garden pump level status (plain)", "5.001", "1.1.11"),
    ("2/6/3", "Garden message (plain)", "16.000", "1.1.11"),
)
DEVICES: Final = (
    *("1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8"),
    *("1.1.12", "1.1.13", "1.1.14"),  # issue 12: display with clock, fan, weather station
    # issue 12: number, select, scene, button, text
    *("1.1.9", "1.1.10", "1.1.11"),
    "1.1.30",  # the hall display reading the exposes (issue 12)
)


#: Devices of the project that demo/installation.json does not simulate.
OTHER_DEVICES: Final = {"1.1.0": "KNX IP Secure gateway"}
#: (room, ETS space usage, devices in it) of the project's one building.
ROOMS: Final = (
    ("Hall", "SU-1", ("1.1.0", "1.1.1", "1.1.7", "1.1.9", "1.1.12", "1.1.30")),
    ("Living room", "SU-4", ("1.1.2", "1.1.4", "1.1.5", "1.1.10")),
    ("Kitchen", "SU-3", ("1.1.3",)),
    ("Bathroom", "SU-6", ("1.1.13",)),
    ("Garage", "SU-9", ("1.1.8", "1.1.11")),
    ("Outside", "SU-10", ("1.1.6", "1.1.14")),
)
#: ETS 6 functions: (name, type, room, ((role, group address), ...)). The roles are ETS's
#: role names of the function type; "" is an address added to a function without a role.
FUNCTIONS: Final = (
    ("Seed light", "FT-1", "Hall", (("SwitchOnOff", "1/1/1"), ("InfoOnOff", "1/1/2"))),
    ("Hall light", "FT-1", "Hall", (("SwitchOnOff", "2/1/1"), ("InfoOnOff", "2/1/2"))),
    (
        "Living room light",
        "FT-6",
        "Living room",
        (
            ("SwitchOnOff", "1/2/1"),
            ("InfoOnOff", "1/2/2"),
            ("DimmingValue", "1/2/3"),
            ("InfoDimmingValue", "1/2/4"),
        ),
    ),
    (
        "Kitchen colour light",
        "FT-6",
        "Kitchen",
        (
            ("SwitchOnOff", "1/2/11"),
            ("InfoOnOff", "1/2/12"),
            ("DimmingValue", "1/2/13"),
            ("InfoDimmingValue", "1/2/14"),
            ("", "1/2/15"),
            ("", "1/2/16"),
            ("", "1/2/17"),
            ("", "1/2/18"),
        ),
    ),
    (
        "Living room blind",
        "FT-7",
        "Living room",
        (
            ("MoveUpDown", "1/3/1"),
            ("StopStepUpDown", "1/3/2"),
            ("", "1/3/3"),
            ("CurrentAbsolutePositionBlindsPercentage", "1/3/4"),
            ("", "1/3/5"),
            ("CurrentAbsolutePositionSlatPercentage", "1/3/6"),
        ),
    ),
    (
        "Living room heating",
        "FT-9",
        "Living room",
        (
            ("TempRoom", "1/4/1"),
            ("TempRoomSetpoint", "1/4/2"),
            ("InfoTempRoomSetpoint", "1/4/3"),
            ("HVACMode", "1/4/4"),
            ("", "1/4/5"),
        ),
    ),
)


def installation_names() -> dict[str, str]:
    """The simulated devices' names by individual address (demo/installation.json)."""
    data = json.loads((DEMO / "installation.json").read_text(encoding="utf-8"))
    return {device["address"]: device.get("name", device["kind"]) for device in data["devices"]}


def project_spec() -> Any:
    """The demo home as an ETS 6 project: every address of the plan, devices, rooms, functions."""
    names = OTHER_DEVICES | installation_names()
    devices = {
        address: names[address]
        for address in sorted(names, key=lambda a: tuple(int(p) for p in a.split(".")))
    }
    return ets.ProjectSpec(
        name="Demo Home",
        ets=6,
        project_id="P-0D3E",
        addresses=tuple(
            ets.GroupAddressSpec(
                ga, name, dpt, description=devices.get(device, ""), secure=ga.startswith("1/")
            )
            for ga, name, dpt, device in ADDRESSES
        ),
        devices=tuple(ets.DeviceSpec(address, name) for address, name in devices.items()),
        area_names={"1": "Home"},
        line_names={"1.1": "Main line"},
        range_names={"1": "Secure", "2": "Plain"},
        rooms=tuple(ets.RoomSpec(name, usage, members) for name, usage, members in ROOMS),
        functions=tuple(
            ets.FunctionSpec(name, kind, room, addresses)
            for name, kind, room, addresses in FUNCTIONS
        ),
    )


def summary() -> dict[str, object]:
    """The seed keyring's summary with the home's addresses, keys and devices added."""
    printed = subprocess.run(  # noqa: S603 - our own command line, fixed arguments
        [
            sys.executable,
            "-m",
            "custom_components.knx_secure.knx",
            "keyring",
            str(SOURCE),
            "--password",
            SOURCE_PASSWORD,
            "--show-secrets",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data: dict[str, object] = json.loads(printed)
    keys = random.Random("knx-secure demo home")
    secure = [(ga, device) for ga, _name, _dpt, device in ADDRESSES if ga.startswith("1/")]
    group_keys: dict[str, str] = {}
    for ga, _device in secure:
        group_keys[ga] = data["group_keys"].get(ga) or keys.randbytes(16).hex()  # type: ignore[attr-defined]
    data["project"] = "Demo Home"
    data["group_keys"] = group_keys
    for interface in data["interfaces"]:  # type: ignore[attr-defined]
        own = interface["individual_address"]
        others = [t for t in TUNNELS if t != own]
        interface["group_addresses"] = {ga: sorted({device, *others}) for ga, device in secure}
    devices: list[dict[str, object]] = data["devices"]  # type: ignore[assignment]
    known = {d["individual_address"] for d in devices}
    for number, address in enumerate(DEVICES):
        if address not in known:
            devices.append(
                {
                    "individual_address": address,
                    "sequence_number": 240662586791 + number * 1000,
                    "tool_key": keys.randbytes(16).hex(),
                    "management_password": None,
                    "authentication": None,
                }
            )
    return data


def write_demo_project() -> None:
    ets.write_project(project_spec(), PROJECT_OUT)
    print(f"wrote {PROJECT_OUT.relative_to(ROOT)}")


def main() -> None:
    if sys.argv[1:] == ["--project"]:  # the project only: the keyring stays as it is
        write_demo_project()
        return
    source = DEMO / "home.summary.tmp.json"
    source.write_text(json.dumps(summary(), indent=2), encoding="utf-8")
    try:
        subprocess.run(  # noqa: S603 - our own command line, fixed arguments
            [
                sys.executable,
                "-m",
                "custom_components.knx_secure.knx",
                "keyring",
                "create",
                str(OUT),
                "--from",
                str(source),
                "--password",
                PASSWORD,
                "--force",
            ],
            cwd=ROOT,
            check=True,
        )
    finally:
        source.unlink()
    print(f"wrote {OUT.relative_to(ROOT)}")
    write_demo_project()


if __name__ == "__main__":
    main()
