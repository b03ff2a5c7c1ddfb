"""Telegrams in automations: the telegram trigger, the gateway's device trigger, and events
for registered addresses; all fed by real telegrams through the virtual gateway."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_get_device_automations,
    async_mock_service,
)

from custom_components.knx_secure.const import DOMAIN
from custom_components.knx_secure.events import EVENT_TELEGRAM
from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode

from ..helpers import wait_for
from .conftest import Setup, gateway_device

VARIABLES = {
    "destination": "{{ trigger.destination }}",
    "source": "{{ trigger.source }}",
    "direction": "{{ trigger.direction }}",
    "service": "{{ trigger.service }}",
    "value": "{{ trigger.value }}",
    "secure": "{{ trigger.secure }}",
}


async def _automation(hass: HomeAssistant, trigger: dict[str, Any]) -> list[ServiceCall]:
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": [trigger],
                "actions": {"action": "test.automation", "data": VARIABLES},
            }
        },
    )
    await hass.async_block_till_done()
    return calls


def _status_writes(setup: Setup) -> int:
    rows = setup.entry.runtime_data.monitor.rows
    return sum(1 for r in rows if r["destination"] == "1/1/2" and r["service"] == "write")


async def _switch(hass: HomeAssistant, setup: Setup, on: bool) -> None:
    """Switch, and return once the actuator's status write reached Home Assistant (its
    row is recorded before any trigger or event runs for it)."""
    before = _status_writes(setup)
    await hass.services.async_call(
        "switch",
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: setup.switch},
        blocking=True,
    )
    await wait_for(lambda: _status_writes(setup) > before)
    await hass.async_block_till_done()


async def test_the_telegram_trigger_fires_with_the_decoded_value(
    hass: HomeAssistant, setup: Setup
) -> None:
    calls = await _automation(
        hass,
        {
            "trigger": "knx_secure.telegram",
            "destination": "1/1/2",
            "outgoing": False,
            "group_value_response": False,
        },
    )
    await _switch(hass, setup, True)
    assert [call.data for call in calls] == [
        {
            "destination": "1/1/2",
            "source": "1.1.1",
            "direction": "incoming",
            "service": "write",
            "value": True,
            "secure": True,
        }
    ]


async def test_the_trigger_filters_outgoing_and_never_fires_for_rejected_telegrams(
    hass: HomeAssistant, setup: Setup
) -> None:
    calls = await _automation(
        hass,
        {"trigger": "knx_secure.telegram", "destination": ["1/1/1", "1/1/2"], "type": "1.002"},
    )
    # a plain write on 1/1/2 (it has a key): rejected, no trigger
    setup.gateway.inject(
        LData(
            code=MessageCode.L_DATA_IND,
            src=IndividualAddress.parse("1.1.9"),
            dst=GroupAddress.parse("1/1/2"),
            tpdu=cemi.group_value_write(1),
        )
    )
    await wait_for(
        lambda: any(r["security"] == "rejected" for r in setup.entry.runtime_data.monitor.rows)
    )
    await _switch(hass, setup, True)
    services = [(c.data["destination"], c.data["direction"], c.data["service"]) for c in calls]
    assert ("1/1/1", "outgoing", "write") in services
    assert ("1/1/2", "incoming", "write") in services
    assert all(c.data["source"] != "1.1.9" for c in calls)
    # "type" decodes with another datapoint type: 1.002 (boolean) reads the 1 as true
    assert {c.data["value"] for c in calls if c.data["service"] == "write"} == {True}


async def test_the_gateway_device_offers_the_telegram_trigger_and_it_fires(
    hass: HomeAssistant, setup: Setup
) -> None:
    device = gateway_device(hass, setup.entry)
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = [t for t in triggers if t["domain"] == DOMAIN]
    assert ours == [
        {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": device.id,
            "type": "telegram",
            "metadata": {},
        }
    ]
    calls = await _automation(
        hass,
        {**{k: v for k, v in ours[0].items() if k != "metadata"}, "destination": ["1/1/1"]},
    )
    await _switch(hass, setup, True)
    assert [(c.data["destination"], c.data["direction"]) for c in calls] == [("1/1/1", "outgoing")]


async def test_registered_addresses_fire_events_until_removed(
    hass: HomeAssistant, setup: Setup
) -> None:
    events: list[Event] = []

    @callback
    def keep(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_TELEGRAM, keep)
    await hass.services.async_call(
        DOMAIN, "event_register", {"address": ["1/1/2"], "type": "1.001"}, blocking=True
    )
    await _switch(hass, setup, True)
    # the status reads after set-up may still run: their rows fire events too (a read has no
    # value); the actuator's status write is the one this test makes.
    writes = [e for e in events if e.data["service"] == "write"]
    assert [(e.data["destination"], e.data["value"], e.data["secure"]) for e in writes] == [
        ("1/1/2", True, True)
    ]
    assert writes[0].data["source"] == "1.1.1"
    assert all(e.data["destination"] == "1/1/2" for e in events)
    await hass.services.async_call(
        DOMAIN, "event_register", {"address": "1/1/2", "remove": True}, blocking=True
    )
    before = len(events)
    await _switch(hass, setup, False)
    assert len(events) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"address": "1/1/99999"}, "is not a group address"),
        ({"address": "1/1/2", "type": "nonsense"}, "is not a datapoint type"),
    ],
)
async def test_event_register_refuses_bad_input(
    hass: HomeAssistant, setup: Setup, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ServiceValidationError, match=message):
        await hass.services.async_call(DOMAIN, "event_register", data, blocking=True)
