"""Base entities of the KNX Secure integration."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from weakref import WeakKeyDictionary

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_NAME, STATE_OFF, STATE_ON
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import CONF_INVERT, DOMAIN
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .knx.address import GroupAddress

# Home Assistant 2026.x links a device to its parent by registry id (via_device_id) and
# deprecates via_device (the parent's identifiers) for 2027.8; 2025.x only knows via_device.
_VIA_DEVICE_ID = "via_device_id" in (DeviceInfo.__required_keys__ | DeviceInfo.__optional_keys__)

# Entities added in one loop iteration (see async_add_subentry_entities).
ADD_BATCH = 10

# The maker of a KNX device is not in the keyring: the devices are named after the standard.
MANUFACTURER = "KNX"


def entity_unique_id(entry: KNXSecureConfigEntry, subentry_id: str) -> str:
    """Return the unique id of a subentry's entity.

    Both parts are ids Home Assistant made and never changes: the entity keeps its id when
    the gateway, the tunnel or the keyring changes (reconfigure, reauth, keyring re-import).
    """
    return f"{entry.entry_id}_{subentry_id}"


class _EntityQueue:
    """The entities of an entry still to be added, all platforms together: ``ADD_BATCH``
    per loop iteration in all (a batch per platform and iteration held the loop for a
    batch times the platforms: ~40 ms with nine)."""

    def __init__(self, coordinator: KNXSecureCoordinator) -> None:
        self._coordinator = coordinator
        self._pending: deque[Callable[[], None]] = deque()
        self._draining = False

    def add(self, additions: list[Callable[[], None]]) -> None:
        self._pending.extend(additions)
        if self._draining:
            return
        self._add_batch()  # at once: a small entry is there when its platforms are set up
        self._draining = True
        entry = self._coordinator.entry
        entry.async_create_task(self._coordinator.hass, self._drain(), f"{DOMAIN} entities")

    def _add_batch(self) -> None:
        for _ in range(min(ADD_BATCH, len(self._pending))):
            self._pending.popleft()()

    async def _drain(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # one loop iteration for everything else
                if not self._pending:
                    return
                self._add_batch()
        finally:
            self._draining = False


_QUEUES: WeakKeyDictionary[KNXSecureCoordinator, _EntityQueue] = WeakKeyDictionary()


def async_add_subentry_entities(
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    subentry_type: str,
    entity_class: Callable[[KNXSecureCoordinator, ConfigSubentry], Entity],
) -> None:
    """Add one entity per subentry of ``subentry_type``, each to its own subentry.

    Home Assistant registers an added entity at once (registries, first state), ~1 ms
    each: hundreds in one go would hold the event loop for a second. The entry's
    entities, of every platform, go through one queue: ``ADD_BATCH`` now, the others in
    batches of that size by a task of the entry that lets the loop run in between
    (``hass.async_block_till_done`` waits for it).
    """
    coordinator = entry.runtime_data

    def adder(subentry_id: str, subentry: ConfigSubentry) -> Callable[[], None]:
        def add() -> None:
            async_add_entities(
                [entity_class(coordinator, subentry)], config_subentry_id=subentry_id
            )

        return add

    additions = [
        adder(subentry_id, subentry)
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == subentry_type
    ]
    if additions:
        queue = _QUEUES.get(coordinator)
        if queue is None:
            queue = _QUEUES[coordinator] = _EntityQueue(coordinator)
        queue.add(additions)


class KNXSecureEntity(Entity):
    """An entity of the integration, available while the tunnel is up.

    By default it belongs to the gateway's device (the diagnostic sensor).
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, coordinator: KNXSecureCoordinator) -> None:
        """Initialize the entity."""
        self.coordinator = coordinator
        self._attr_device_info = DeviceInfo(**coordinator.device_info, manufacturer=MANUFACTURER)

    @property
    def available(self) -> bool:
        """Return whether the tunnel is up."""
        return self.coordinator.connected

    async def async_added_to_hass(self) -> None:
        """Follow the tunnel's availability."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_availability_listener(self.async_write_ha_state)
        )


class KNXSecureSubentryEntity(KNXSecureEntity):
    """An entity built from a config subentry, on a device of its own.

    Each subentry has its own device, connected through the gateway's device (via_device):
    Home Assistant keeps a device in one config subentry (2026.x warns when entities of
    several subentries share one, and that stops working in 2027.8). The entity is the
    main feature of its device, so it takes the device's name (the subentry's name).
    Platforms listen with the coordinator's ``async_add_dpt_listener`` (decoded values)
    and register their status addresses with ``async_add_status_address``.
    """

    # The model shown for the subentry's device ("Switch", "Light").
    _device_model: str

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize the unique id and the device from the subentry."""
        super().__init__(coordinator)
        data = subentry.data
        unique_id = entity_unique_id(coordinator.entry, subentry.subentry_id)
        self._attr_unique_id = unique_id
        self._attr_name = None
        device_info = DeviceInfo(
            identifiers={(DOMAIN, unique_id)},
            name=data[CONF_NAME],
            manufacturer=MANUFACTURER,
            model=self._device_model,
        )
        if _VIA_DEVICE_ID and coordinator.gateway_device_id is not None:
            device_info["via_device_id"] = coordinator.gateway_device_id  # type: ignore[typeddict-unknown-key]
        else:
            device_info["via_device"] = (DOMAIN, coordinator.entry.entry_id)
        self._attr_device_info = device_info


class KNXSecureBooleanEntity(KNXSecureSubentryEntity, RestoreEntity):
    """A DPT 1 entity built from a config subentry, restored until the bus answers."""

    # Annotation only: a class-level value here would hide the cached-property
    # bookkeeping SwitchEntity and BinarySensorEntity attach to their own _attr_is_on.
    _attr_is_on: bool | None

    def __init__(
        self,
        coordinator: KNXSecureCoordinator,
        subentry: ConfigSubentry,
        listen_address: GroupAddress,
        read_address: GroupAddress | None,
    ) -> None:
        """Initialize from the subentry's data."""
        super().__init__(coordinator, subentry)
        self._invert: bool = subentry.data.get(CONF_INVERT, False)
        self._listen_address = listen_address
        self._read_address = read_address

    async def async_added_to_hass(self) -> None:
        """Restore the last state, then follow the bus."""
        await super().async_added_to_hass()
        if (last_state := await self.async_get_last_state()) is not None and (
            last_state.state in (STATE_ON, STATE_OFF)
        ):
            self._attr_is_on = last_state.state == STATE_ON
        self.async_on_remove(
            self.coordinator.async_add_value_listener(self._listen_address, self._handle_value)
        )
        if self._read_address is not None:
            self.async_on_remove(self.coordinator.async_add_status_address(self._read_address))

    @callback
    def _handle_value(self, value: bool) -> None:
        """Take a value from the bus (inverted if so configured)."""
        self._attr_is_on = value != self._invert
        self.async_write_ha_state()
