"""The demo home's ETS 6 project for the tests: ``tests/fixtures/projects/ets6.knxproj``
(see its INDEX.md), read by the integration's own parser as an import reads it.

Its functions: F-1 Seed light and F-2 Hall light (FT-1), F-3 Living room light (FT-6),
F-4 Living room blind (FT-7), F-5 Living room heating (FT-9), F-6 Kitchen colour light (FT-6),
F-7 Garden light (FT-1). Extras: 3/1/3 without a type, 3/1/4 typed by its main number only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.project import Project, async_save_project, parse_project_file

from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    FIXTURES,
    UploadFile,
    async_add_gateway_entry,
)

PROJECT_FILE = FIXTURES / "projects" / "ets6.knxproj"
LIGHT_FUNCTION = "F-3"  # Living room light: the demo's dimmer 1.1.2
BLIND_FUNCTION = "F-4"
HEATING_FUNCTION = "F-5"
COLOUR_LIGHT_FUNCTION = "F-6"


@cache
def demo_project(path: Path = PROJECT_FILE) -> Project:
    return parse_project_file(path, None, None)


async def async_give_project(
    hass: HomeAssistant, entry: ConfigEntry, project: Project | None = None
) -> Project:
    """Save a project for the entry as an import does, and reload the entry with it."""
    project = project or demo_project()
    await async_save_project(hass, entry.entry_id, project)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
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
