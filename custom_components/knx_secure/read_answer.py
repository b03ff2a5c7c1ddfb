"""Answers to GroupValueRead for entities with "respond to read" (numbers, selects, texts,
switches, dates and times): a device that reads the entity's group address, for example
after a bus voltage return, gets the value the entity holds now, sent as a
GroupValueResponse (Data Secure when the address has a key)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import HomeAssistantError

from .coordinator import KNXSecureCoordinator
from .knx.address import GroupAddress
from .knx.dpt import DPT, DPTValue

_LOGGER = logging.getLogger(__name__)


@callback
def async_answer_reads(
    coordinator: KNXSecureCoordinator,
    address: GroupAddress,
    dpt: DPT,
    current_value: Callable[[], DPTValue | None],
) -> CALLBACK_TYPE:
    """Answer every GroupValueRead of address with ``current_value()`` as dpt (no answer
    while it is None: the entity has no value yet); return the callback that stops."""

    @callback
    def handle_read() -> None:
        if (value := current_value()) is None:
            return
        coordinator.hass.async_create_task(
            _async_respond(coordinator, address, dpt, value), eager_start=True
        )

    return coordinator.async_add_read_listener(address, handle_read)


async def _async_respond(
    coordinator: KNXSecureCoordinator, address: GroupAddress, dpt: DPT, value: DPTValue
) -> None:
    try:
        await coordinator.async_respond(address, dpt, value)
    except HomeAssistantError as err:
        # Nobody waits for the answer: a lost one is only worth a debug line.
        _LOGGER.debug("No answer to the read of %s: %s", address, err)
