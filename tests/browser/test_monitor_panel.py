"""The group monitor panel in a real browser: live rows, a rejected telegram, filters, pause,
and the history after a restart of Home Assistant.

The module has its own Home Assistant, gateway and tab (module fixtures); it adds the
integration and a switch through the UI with the steps of test_ui.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from types import MappingProxyType

import pytest
from playwright.sync_api import Locator, Page, expect

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.client import SecureTunnelClient, TunnelChoice
from custom_components.knx_secure.knx.keyring import load_keyring

from .conftest import (
    KEYRING_PASSWORD,
    KEYRING_PATH,
    UI_TIMEOUT_MS,
    Gateway,
    HomeAssistant,
    Screenshots,
    real_sockets,
    restart_home_assistant,
    wait_until,
)
from .test_ui import Walk, add_integration, add_switch, save_switch

PANEL = "/knx-secure"


def forge_plain_status(gateway: Gateway) -> None:
    """Another tunnel client puts a plain write on 1/1/2, which has a Data Secure key: a
    device (or Home Assistant) must reject it. Our client sends plain only where the keyring
    has no key, so this one's keyring has none."""
    keyring = dataclasses.replace(
        load_keyring(KEYRING_PATH, KEYRING_PASSWORD), group_keys=MappingProxyType({})
    )

    async def send() -> None:
        client = SecureTunnelClient(
            keyring,
            "127.0.0.1",
            gateway.port,
            tunnel=TunnelChoice(host=IndividualAddress.parse("1.1.0")),
        )
        await client.connect()
        try:
            await client.write(GroupAddress.parse("1/1/2"), 1)
        finally:
            await client.close()

    # The test's own event loop may be running (pytest-asyncio): a thread of its own.
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _run(send(), errors))
    thread.start()
    thread.join(60)
    assert not errors, errors


def _run(coroutine: object, errors: list[BaseException]) -> None:
    try:
        with real_sockets():
            asyncio.run(coroutine)  # type: ignore[arg-type]
    except BaseException as err:
        errors.append(err)


@pytest.fixture(scope="module")
def walk(page: Page, screenshots: Screenshots) -> Walk:
    return Walk(page, screenshots)


@pytest.fixture(scope="module")
def switch(walk: Walk, home_assistant: HomeAssistant, gateway: Gateway) -> str:
    add_integration(walk, home_assistant, gateway)
    add_switch(walk, home_assistant, "Hall light", "1/1/1", "1/1/2")
    return save_switch(walk, home_assistant, "Hall light")


def rows(walk: Walk) -> Locator:
    return walk.page.locator("knx-secure-panel tr.row")


def turn(home_assistant: HomeAssistant, entity_id: str, on: bool) -> None:
    service = "turn_on" if on else "turn_off"
    home_assistant.request("POST", f"/api/services/switch/{service}", {"entity_id": entity_id})
    home_assistant.wait_for_state(entity_id, "on" if on else "off")


def open_panel(walk: Walk, home_assistant: HomeAssistant) -> None:
    walk.page.goto(home_assistant.url + PANEL)
    walk.see(walk.page.get_by_text("KNX group monitor"), "panel", "the panel's title")


def test_a_toggle_appears_live_with_its_data_secure_badge(
    walk: Walk, home_assistant: HomeAssistant, switch: str
) -> None:
    open_panel(walk, home_assistant)
    turn(home_assistant, switch, True)
    ours = rows(walk).filter(has_text="1/1/1").filter(has_text="↑ out").first
    walk.see(ours, "live_write", "the row of the write to 1/1/1")
    expect(ours.locator(".badge")).to_have_text("Data Secure")
    status = rows(walk).filter(has_text="1/1/2").filter(has_text="on").first
    walk.see(status, "live_status", "the actuator's status on 1/1/2, decoded as on")
    expect(status.locator(".badge")).to_have_text("Data Secure")
    expect(status).to_contain_text("Hall light · state")


def test_a_forged_telegram_appears_rejected_with_its_reason(
    walk: Walk, home_assistant: HomeAssistant, gateway: Gateway, switch: str
) -> None:
    open_panel(walk, home_assistant)
    forge_plain_status(gateway)
    rejected = rows(walk).filter(has_text="Rejected").first
    walk.see(rejected, "rejected_row", "the rejected row")
    why = walk.page.locator("knx-secure-panel tr.why").first
    expect(why).to_contain_text("Plain (not encrypted) although the keyring has a Data Secure key")
    expect(why).to_contain_text("What to do in ETS")


def test_filters_and_pause(walk: Walk, home_assistant: HomeAssistant, switch: str) -> None:
    open_panel(walk, home_assistant)
    page = walk.page
    page.get_by_label("Filter by security").select_option("rejected")
    wait_until(lambda: rows(walk).count() > 0, 30, "rejected rows")
    walk.check(
        lambda: all("Rejected" in row.inner_text() for row in rows(walk).all()),
        "filter_rejected",
        "only rejected rows are shown",
    )
    page.get_by_label("Filter by security").select_option("")
    page.get_by_label("Filter by address").fill("1/1/1")
    walk.check(
        lambda: all("1/1/1" in row.inner_text() for row in rows(walk).all()),
        "filter_address",
        "only rows of 1/1/1 are shown",
    )
    page.get_by_label("Filter by address").fill("")
    page.get_by_role("button", name="Pause").click()
    shown = rows(walk).count()
    turn(home_assistant, switch, False)
    page.wait_for_timeout(500)  # paces the check; the resume below proves the rows arrived
    walk.check(lambda: rows(walk).count() == shown, "paused", "rows were added while paused")
    page.get_by_role("button", name="Resume").click()
    expect(rows(walk)).not_to_have_count(shown, timeout=UI_TIMEOUT_MS)
    walk.screenshots.take(page, "resumed")


def test_the_history_is_there_after_a_restart(
    walk: Walk, home_assistant: HomeAssistant, switch: str
) -> None:
    restart_home_assistant(home_assistant)
    wait_until(
        lambda: [e["state"] for e in home_assistant.config_entries()] == ["loaded"],
        120.0,
        "the entry to be loaded again",
    )
    open_panel(walk, home_assistant)
    walk.see(rows(walk).filter(has_text="Rejected").first, "history", "the rejected row")
    walk.see(rows(walk).filter(has_text="1/1/1").first, "history_write", "the write to 1/1/1")


def test_a_phone_sized_screen_shows_the_rows(walk: Walk, home_assistant: HomeAssistant) -> None:
    walk.page.set_viewport_size({"width": 390, "height": 844})
    try:
        open_panel(walk, home_assistant)
        first = rows(walk).first
        walk.see(first, "phone", "a row on a phone-sized screen")
        box = first.bounding_box()
        assert box is not None
        assert box["width"] <= 390, box
    finally:
        walk.page.set_viewport_size({"width": 1280, "height": 900})


def test_an_automation_made_in_the_editor_with_the_gateway_trigger_fires(
    walk: Walk, home_assistant: HomeAssistant, switch: str
) -> None:
    """The telegram trigger of the gateway's device, made in the visual automation editor."""
    page = walk.page
    page.goto(home_assistant.url + "/config/automation/edit/new")
    page.get_by_role("button", name="Add trigger").first.click()
    walk.dialog.get_by_text("Device", exact=True).first.click()
    page.get_by_label("Device").first.click()
    page.keyboard.type("virtual gateway")
    page.get_by_role("option").filter(has_text="KNX Secure virtual gateway").first.click()
    # the gateway has one trigger: the editor takes it and shows its fields
    add_address = page.get_by_role("button", name="Add group addresses (empty: any)")
    walk.see(add_address, "device_trigger", "the telegram trigger's fields")
    add_address.click()
    page.get_by_label("Group addresses (empty: any)").first.fill("1/1/2")
    page.get_by_role("switch", name="Reads").click()
    page.get_by_role("switch", name="Outgoing").click()
    page.get_by_role("button", name="Add action").first.click()
    page.locator("add-automation-element-dialog").get_by_role("textbox").first.fill(
        "persistent notification"
    )
    page.get_by_text("Persistent Notification: Create").click()
    walk.screenshots.take(page, "action_added")
    message = page.locator("ha-settings-row").filter(has_text="Message body")
    message.get_by_role("textbox").first.fill("1/1/2 is {{ trigger.value }}")
    walk.screenshots.take(page, "automation_filled")
    page.get_by_role("button", name="Save").last.click()
    page.get_by_label("Name").last.fill("Hall light status")
    page.get_by_role("button", name="Save").last.click()
    automation_id = "automation.hall_light_status"
    wait_until(lambda: home_assistant.state(automation_id) == "on", 60, "the saved automation")
    turn(home_assistant, switch, True)
    wait_until(
        lambda: (
            home_assistant.request("GET", f"/api/states/{automation_id}")["attributes"].get(
                "last_triggered"
            )
            is not None
        ),
        60,
        "the automation to fire on the actuator's status",
    )
    walk.screenshots.take(page, "automation_fired")
