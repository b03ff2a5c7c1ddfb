"""Notify: text messages to a display's group address (16.000 ASCII or 16.001 Latin-1).

A DPT 16 telegram carries 14 characters: a longer message is sent as consecutive
telegrams of 14 characters each (the last one shorter), in order, each confirmed by the
gateway before the next. A character the type cannot carry fails the whole message
before anything is sent.
"""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_VALUE_TYPE, CONF_WRITE_ADDRESS, DOMAIN, SUBENTRY_NOTIFY
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .entity import KNXSecureSubentryEntity, async_add_subentry_entities
from .knx.address import GroupAddress
from .knx.dpt import get_dpt
from .knx.errors import DPTError

PARALLEL_UPDATES = 1  # one message after the other: their frames must not interleave

#: Characters in one DPT 16 telegram.
FRAME_CHARACTERS = 14


def split_message(message: str) -> list[str]:
    """The telegrams' texts of message: 14 characters each, at least one (an empty message
    clears the display)."""
    return [
        message[start : start + FRAME_CHARACTERS]
        for start in range(0, max(len(message), 1), FRAME_CHARACTERS)
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KNXSecureConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one notify entity per notify subentry."""
    async_add_subentry_entities(entry, async_add_entities, SUBENTRY_NOTIFY, KNXSecureNotify)


class KNXSecureNotify(KNXSecureSubentryEntity, NotifyEntity):
    """A KNX display's text object (see the module docstring); the title is not sent."""

    _device_model = "Display"

    def __init__(self, coordinator: KNXSecureCoordinator, subentry: ConfigSubentry) -> None:
        """Initialize from the subentry's address and text type."""
        super().__init__(coordinator, subentry)
        self._address = GroupAddress.parse(subentry.data[CONF_WRITE_ADDRESS])
        self._dpt = get_dpt(subentry.data.get(CONF_VALUE_TYPE, "16.001"))

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send the message as 14-character telegrams."""
        frames = split_message(message)
        for frame in frames:  # check every frame first: all or nothing reaches the display
            try:
                self._dpt.encode(frame)
            except DPTError as err:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="invalid_value",
                    translation_placeholders={"address": str(self._address), "error": str(err)},
                ) from err
        for frame in frames:
            await self.coordinator.async_write_dpt(self._address, self._dpt, frame)
