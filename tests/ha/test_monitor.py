"""The group monitor: rows of telegrams in, out and rejected; its websocket API and storage."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.monitor import REJECTION_TEXTS, rejection_text

from ..helpers import STATUS, SWITCH, wait_for
from .conftest import Setup

FOREIGN = IndividualAddress.parse("1.1.9")


def _rows(hass: HomeAssistant, setup: Setup) -> list[dict[str, Any]]:
    return list(setup.entry.runtime_data.monitor.rows)


async def _toggle_on(hass: HomeAssistant, setup: Setup) -> None:
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: setup.switch}, blocking=True
    )


def _find(rows: list[dict[str, Any]], **fields: object) -> dict[str, Any]:
    for row in rows:
        if all(row.get(key) == value for key, value in fields.items()):
            return row
    raise AssertionError(f"no row with {fields} in {rows}")


async def test_a_toggle_shows_our_write_and_the_actuator_status_decoded(
    hass: HomeAssistant, setup: Setup
) -> None:
    await _toggle_on(hass, setup)
    await wait_for(
        lambda: any(
            r["destination"] == str(STATUS) and r["service"] == "write" for r in _rows(hass, setup)
        )
    )
    rows = _rows(hass, setup)
    ours = _find(rows, direction="outgoing", destination=str(SWITCH), service="write")
    assert ours["security"] == "secure"
    assert ours["value"] is True
    assert ours["dpt"] == "1.001"
    assert ours["source_name"] == "Home Assistant"
    assert ours["destination_name"] == "Light · write"
    status = _find(rows, direction="incoming", destination=str(STATUS), service="write")
    assert status["security"] == "secure"
    assert status["value"] is True
    assert status["source"] == "1.1.1"
    assert status["destination_name"] == "Light · state, Light status · state"


async def test_a_plain_telegram_on_a_secured_address_is_a_rejected_row_with_its_reason(
    hass: HomeAssistant, setup: Setup
) -> None:
    setup.gateway.inject(
        LData(
            code=MessageCode.L_DATA_IND,
            src=FOREIGN,
            dst=GroupAddress.parse("1/1/2"),
            tpdu=cemi.group_value_write(1),
        )
    )
    await wait_for(lambda: any(r["security"] == "rejected" for r in _rows(hass, setup)))
    row = _find(_rows(hass, setup), security="rejected")
    assert row["reason"] == "plain"
    assert row["source"] == "1.1.9"
    assert row["destination"] == "1/1/2"
    assert row["explanation"], row
    assert "ETS" in row["advice"]


def test_every_drop_reason_a_group_telegram_can_have_is_explained() -> None:
    for reason in (DropReason.MAC, DropReason.REPLAY, DropReason.PLAIN, DropReason.NO_KEY):
        explanation, advice = REJECTION_TEXTS[reason]
        assert explanation
        assert advice


async def test_the_websocket_api_gives_history_then_live_rows(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "knx_secure/monitor/subscribe"})
    subscribed = await client.receive_json()
    assert subscribed["success"]
    await _toggle_on(hass, setup)
    event = await client.receive_json()
    assert event["type"] == "event"
    assert event["event"]["destination"] == str(SWITCH)
    assert event["event"]["direction"] == "outgoing"
    await client.send_json_auto_id({"type": "knx_secure/monitor/history"})
    history = await client.receive_json()
    while history["type"] == "event":  # live rows may come first
        history = await client.receive_json()
    assert history["success"]
    assert any(row["destination"] == str(SWITCH) for row in history["result"]["rows"])
    await client.send_json_auto_id({"type": "knx_secure/monitor/info"})
    info = await client.receive_json()
    while info["type"] == "event":
        info = await client.receive_json()
    (entry,) = info["result"]["entries"]
    assert entry["addresses"]["1/1/1"] == {"name": "Light · write", "dpt": "1.001"}
    assert {"id": "9.001", "name": "temperature", "unit": "°C"} in info["result"]["dpts"]


async def test_send_and_read_through_the_websocket_api(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "knx_secure/monitor/send",
            "address": "1/1/1",
            "service": "write",
            "dpt": "1.001",
            "value": True,
        }
    )
    result = await client.receive_json()
    assert result["success"], result
    await wait_for(lambda: setup.gateway.switch_state(SWITCH))
    await client.send_json_auto_id(
        {"type": "knx_secure/monitor/send", "address": "1/1/2", "service": "read"}
    )
    result = await client.receive_json()
    assert result["success"], result
    assert result["result"] == {"source": "1.1.1"}
    for bad, code in (
        ({"address": "1/1/99999"}, "invalid_address"),
        ({"address": "1/1/1", "dpt": "1.001", "value": 7}, "invalid_value"),
        ({"address": "1/1/1"}, "invalid_value"),
        ({"address": "1/1/1", "payload": "zz"}, "invalid_value"),
    ):
        await client.send_json_auto_id(
            {"type": "knx_secure/monitor/send", "service": "write", **bad}
        )
        result = await client.receive_json()
        assert not result["success"], bad
        assert result["error"]["code"] == code, result


async def test_only_admins_use_the_monitor(
    hass: HomeAssistant,
    setup: Setup,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "knx_secure/monitor/history"})
    result = await client.receive_json()
    assert not result["success"]
    assert result["error"]["code"] == "unauthorized"


async def test_the_history_survives_a_reload_and_clear_empties_it(
    hass: HomeAssistant, setup: Setup, hass_ws_client: WebSocketGenerator
) -> None:
    await _toggle_on(hass, setup)
    await wait_for(lambda: len(_rows(hass, setup)) >= 2)
    before = _rows(hass, setup)
    assert await hass.config_entries.async_reload(setup.entry.entry_id)
    await hass.async_block_till_done()
    assert setup.entry.state is ConfigEntryState.LOADED
    after = _rows(hass, setup)
    assert after[: len(before)] == before
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "knx_secure/monitor/clear"})
    assert (await client.receive_json())["success"]
    assert _rows(hass, setup) == []


@pytest.mark.parametrize("reason", list(DropReason))
def test_rejection_texts_never_fail(reason: DropReason) -> None:
    explanation, advice = rejection_text(reason)
    assert explanation
    assert advice
