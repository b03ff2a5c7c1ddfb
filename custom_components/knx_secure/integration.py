"""Home Assistant side of the integration: setup, unload and removal of config entries.

Re-exported by ``__init__.py`` whenever Home Assistant is running.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_CONNECTION,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONNECTION_TUNNEL_SECURE,
    DOMAIN,
    PLATFORMS,
)
from .knx.errors import KeyringError, KeyringPasswordError
from .services import async_setup_services

if TYPE_CHECKING:
    from .coordinator import KNXSecureConfigEntry

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, the group monitor's websocket API and its panel (they work on
    whichever entries are loaded)."""
    async_setup_services(hass)
    from .events import async_setup_events  # noqa: PLC0415
    from .panel import async_register_panel  # noqa: PLC0415
    from .websocket_api import async_register_commands  # noqa: PLC0415

    async_register_commands(hass)
    await async_register_panel(hass)
    async_setup_events(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> bool:
    """Bring an entry of an earlier version to the current data layout.

    1.1 -> 1.2: entries from before the connection type was stored are secure tunnels.
    """
    if entry.version > 1:
        return False  # a newer integration wrote it: nothing here understands it
    if entry.minor_version < 2:  # 1.2: the connection type is stored
        hass.config_entries.async_update_entry(
            entry,
            data={CONF_CONNECTION: CONNECTION_TUNNEL_SECURE, **entry.data},
            minor_version=2,
        )
        _LOGGER.debug("Migrated %s to version 1.2 (secure tunnel)", entry.title)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> bool:
    """Load the keyring, open the secure tunnel and set up the platforms."""
    from .coordinator import KNXSecureCoordinator  # noqa: PLC0415
    from .expose import async_setup_exposes  # noqa: PLC0415
    from .project import async_load_entry_project  # noqa: PLC0415
    from .project_check import async_check_project  # noqa: PLC0415
    from .repairs import async_delete_issues  # noqa: PLC0415
    from .store import (  # noqa: PLC0415
        HassSecurityStore,
        adopt_and_load_keyring,
        keyring_directory,
    )

    try:
        name, keyring = await hass.async_add_executor_job(
            adopt_and_load_keyring,
            keyring_directory(hass),
            entry.data[CONF_KEYRING_FILE],
            entry.entry_id,
            entry.data[CONF_KEYRING_PASSWORD],
        )
    except FileNotFoundError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="keyring_missing"
        ) from err
    except KeyringPasswordError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="keyring_password"
        ) from err
    except KeyringError as err:
        # A changed or unreadable keyring: reauthentication lets the user upload it again.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="keyring_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    except (OSError, ValueError) as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="keyring_unreadable",
            translation_placeholders={"error": str(err)},
        ) from err
    if name != entry.data[CONF_KEYRING_FILE]:
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_KEYRING_FILE: name})

    # Fresh counters: issues of a previous run no longer say anything.
    async_delete_issues(hass, entry.entry_id)

    store = HassSecurityStore(hass, entry.entry_id)
    await store.async_load()  # before the client exists: it reads the counters at once
    coordinator = KNXSecureCoordinator(hass, entry, keyring, store)
    coordinator.project = await async_load_entry_project(hass, entry)
    # Its names in the monitor (the stored rows too), the repairs and the diagnostics.
    coordinator.monitor.use_project(coordinator.project)
    async_check_project(hass, entry, coordinator.project, keyring, coordinator.monitor.address_name)
    await coordinator.monitor.async_load()  # the history first: the panel shows it, then live
    await coordinator.async_start()
    try:
        entry.runtime_data = coordinator
        coordinator.subentries_snapshot = _subentries_snapshot(entry)

        async def _async_stop(_event: Event) -> None:
            await coordinator.async_shutdown()

        entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_stop))
        coordinator.gateway_device_id = (
            dr.async_get(hass)
            .async_get_or_create(config_entry_id=entry.entry_id, **coordinator.device_info)
            .id
        )
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        async_setup_exposes(hass, entry)
    except BaseException:
        await coordinator.async_shutdown()
        raise
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


def _subentries_snapshot(entry: KNXSecureConfigEntry) -> dict[str, object]:
    # The subentries' own data, not copies: Home Assistant replaces a subentry's read-only
    # data on an update (a copy of each took ~0.3 kB per entity).
    return {
        subentry_id: (subentry.subentry_type, subentry.title, subentry.data)
        for subentry_id, subentry in entry.subentries.items()
    }


async def _async_update_listener(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> None:
    """Reload when subentries (entities) were added, changed or removed.

    Changes of the entry's own data come from reauth and reconfigure flows, which reload
    the entry themselves.
    """
    # Subentries added in one go (entities from the project) call this once each, eagerly
    # inside each add: yield once so that the first call sees them all, and the others
    # (their change already in the snapshot) schedule no second reload.
    await asyncio.sleep(0)
    snapshot = _subentries_snapshot(entry)
    if snapshot != entry.runtime_data.subentries_snapshot:
        entry.runtime_data.subentries_snapshot = snapshot
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> bool:
    """Unload the platforms, close the tunnel and write the counters."""
    unload_ok = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unload_ok:
        await entry.runtime_data.async_shutdown()
    return unload_ok


async def async_remove_entry(hass: HomeAssistant, entry: KNXSecureConfigEntry) -> None:
    """Remove the entry's keyring file, its stored counters and its repair issues."""
    from .monitor import async_remove_telegram_history  # noqa: PLC0415
    from .project import async_remove_entry_project  # noqa: PLC0415
    from .repairs import async_delete_issues  # noqa: PLC0415
    from .store import (  # noqa: PLC0415
        HassSecurityStore,
        keyring_directory,
        keyring_file_name,
        remove_keyring_files,
    )

    names = {keyring_file_name(entry.entry_id), entry.data.get(CONF_KEYRING_FILE, "")}
    await hass.async_add_executor_job(
        remove_keyring_files, keyring_directory(hass), [name for name in names if name]
    )
    await HassSecurityStore(hass, entry.entry_id).async_remove()
    await async_remove_telegram_history(hass, entry.entry_id)
    await async_remove_entry_project(hass, entry)
    async_delete_issues(hass, entry.entry_id)
