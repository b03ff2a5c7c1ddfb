"""An ETS project of the demo home, built in the tests (as an import would keep it).

Names and types of the demo home's group addresses (demo/installation.json) and three
ETS 6 functions: the living room's dimmable light (FT-6), blind (FT-7) and heating (FT-9),
with the roles ETS gives their addresses.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.project import (
    Project,
    ProjectAddress,
    ProjectFunction,
    async_save_project,
)

from .conftest import DEMO_KEYRING_BYTES, DEMO_KEYRING_PASSWORD, UploadFile, async_add_gateway_entry

_ADDRESSES: dict[str, tuple[str, str | None]] = {
    "1/1/1": ("Seed switch", "1.001"),
    "1/1/2": ("Seed switch status", "1.001"),
    "1/2/1": ("Living room light", "1.001"),
    "1/2/2": ("Living room light status", "1.001"),
    "1/2/3": ("Living room brightness", "5.001"),
    "1/2/4": ("Living room brightness status", "5.001"),
    "1/3/1": ("Blind up/down", "1.008"),
    "1/3/2": ("Blind step/stop", "1.007"),
    "1/3/3": ("Blind position", "5.001"),
    "1/3/4": ("Blind position status", "5.001"),
    "1/3/5": ("Blind slat", "5.001"),
    "1/3/6": ("Blind slat status", "5.001"),
    "1/4/1": ("Living room temperature", "9.001"),
    "1/4/2": ("Living room setpoint", "9.001"),
    "1/4/4": ("Living room operation mode", "20.102"),
    "1/5/1": ("Outdoor temperature", "9.001"),
    "1/5/2": ("Outdoor humidity", "9.007"),
    "1/5/10": ("Spare", None),  # no type: makes no entity alone
    "1/6/21": ("Living room scene", "17.001"),
    "2/1/1": ("Hall light", "1.001"),
    "2/1/2": ("Hall light status", "1.001"),
}

LIGHT_FUNCTION = ProjectFunction(
    identifier="F-1",
    name="Living room ceiling",
    function_type="FT-6",
    space="Living room",
    addresses=(
        ("SwitchOnOff", "1/2/1"),
        ("InfoOnOff", "1/2/2"),
        ("DimmingValue", "1/2/3"),
        ("InfoDimmingValue", "1/2/4"),
    ),
)
BLIND_FUNCTION = ProjectFunction(
    identifier="F-2",
    name="Living room blind",
    function_type="FT-7",
    space="Living room",
    addresses=(
        ("MoveUpDown", "1/3/1"),
        ("StopStepUpDown", "1/3/2"),
        ("", "1/3/3"),  # ETS 6 has no role for the position and slat commands
        ("CurrentAbsolutePositionBlindsPercentage", "1/3/4"),
        ("", "1/3/5"),
        ("CurrentAbsolutePositionSlatPercentage", "1/3/6"),
    ),
)
HEATING_FUNCTION = ProjectFunction(
    identifier="F-3",
    name="Living room heating",
    function_type="FT-9",
    space="Living room",
    addresses=(
        ("TempRoom", "1/4/1"),
        ("TempRoomSetpoint", "1/4/2"),
        ("HVACMode", "1/4/4"),
    ),
)


def demo_project() -> Project:
    return Project(
        name="Demo Home",
        tool_version="ETS6 6.2",
        addresses={
            address: ProjectAddress(address, name, dpt=dpt)
            for address, (name, dpt) in _ADDRESSES.items()
        },
        functions={f.identifier: f for f in (LIGHT_FUNCTION, BLIND_FUNCTION, HEATING_FUNCTION)},
    )


async def async_give_project(
    hass: HomeAssistant, entry: ConfigEntry, project: Project | None = None
) -> Project:
    """Save a project for the entry as an import does, and reload the entry with it."""
    project = project or demo_project()
    await async_save_project(hass, entry.entry_id, project)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    return project


async def async_add_demo_entry(
    hass: HomeAssistant, gateway: VirtualGateway, upload_file: UploadFile
) -> ConfigEntry:
    """The demo home's gateway entry, added through the real flow (no project yet)."""
    return await async_add_gateway_entry(
        hass,
        gateway,
        upload_file,
        keyring_source=DEMO_KEYRING_BYTES,
        password=DEMO_KEYRING_PASSWORD,
    )
