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
from typing import Literal

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
    return walk.page.locator("knx-secure-panel .row")


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
    why = walk.page.locator("knx-secure-panel .why").first
    expect(why).to_contain_text("Plain (not encrypted) although the keyring has a Data Secure key")
    expect(why).to_contain_text("What to do in ETS")


def test_filters_and_pause(walk: Walk, home_assistant: HomeAssistant, switch: str) -> None:
    open_panel(walk, home_assistant)
    page = walk.page
    page.get_by_label("Filter by security").select_option("rejected")
    # a filter applies once the typing pauses: wait for the other rows to go
    expect(rows(walk).filter(has_not_text="Rejected")).to_have_count(0)
    walk.see(rows(walk).first, "filter_rejected", "a rejected row")
    page.get_by_label("Filter by security").select_option("")
    page.get_by_label("Filter by address").fill("1/1/1")
    expect(rows(walk).filter(has_not_text="1/1/1")).to_have_count(0)
    walk.see(rows(walk).first, "filter_address", "a row of 1/1/1")
    page.get_by_label("Filter by address").fill("")
    page.get_by_role("button", name="Pause").click()
    shown = rows(walk).count()
    turn(home_assistant, switch, False)
    page.wait_for_timeout(500)  # paces the check; the resume below proves the rows arrived
    walk.check(lambda: rows(walk).count() == shown, "paused", "rows were added while paused")
    page.get_by_role("button", name="Resume").click()
    expect(rows(walk)).not_to_have_count(shown, timeout=UI_TIMEOUT_MS)
    walk.screenshots.take(page, "resumed")


#: Computes, in the page, the WCAG contrast ratio of the text of the panel's elements that match
#: each selector (their placeholders too) against the background they are drawn on: the
#: element's and its ancestors' backgrounds (across the shadow root) composited, every colour
#: read back through a canvas so that any CSS colour syntax counts.
CONTRAST = """
(panel, selectors) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = css;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement || node.getRootNode().host) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] === 1) break;
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255]);
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  const results = [];
  const check = (what, colour, element) => {
    const back = background(element);
    results.push({ what, ratio: ratio(over(rgba(colour), back), back) });
  };
  for (const selector of selectors) {
    const elements = [...panel.shadowRoot.querySelectorAll(selector)].slice(0, 3);
    if (!elements.length) results.push({ what: `${selector} (none shown)`, ratio: 0 });
    for (const element of elements) {
      const style = getComputedStyle(element);
      if (element.textContent.trim() || ["INPUT", "SELECT"].includes(element.tagName)) {
        check(`${selector} ${JSON.stringify(element.textContent.trim().slice(0, 30))}`,
          style.color, element);
      }
      if (element.placeholder) {
        check(`${selector} placeholder`, getComputedStyle(element, "::placeholder").color,
          element);
      }
    }
  }
  results.push({ what: "theme", luminance: luminance(background(panel)) });
  return results;
}
"""

#: What must be readable: the rows of each badge, the badges, the reason of a rejected
#: telegram, the filters, the send form and its result, the status line and the buttons.
READABLE = (
    ".row.secure .cell",
    ".row.plain .cell",
    ".row.rejected .cell",
    ".row .cell small",
    ".badge.secure",
    ".badge.plain",
    ".badge.rejected",
    ".why b",
    ".why small",
    ".bar input",
    ".bar select",
    "#send input",
    "#send select",
    "#send button",
    "#send-result",
    ".status",
    ".head .cell",
    "header button:not(.menu)",
)
WCAG_TEXT = 4.5


def unreadable(walk: Walk, selectors: tuple[str, ...], dark: bool) -> list[str]:
    """The texts under WCAG_TEXT contrast, and a wrong theme (the check would mean nothing)."""
    results = walk.page.locator("knx-secure-panel").evaluate(CONTRAST, list(selectors))
    theme = results.pop()["luminance"]
    problems = [f"{r['what']}: {r['ratio']:.2f}" for r in results if r["ratio"] < WCAG_TEXT]
    if dark != (theme < 0.2):
        problems.append(f"the panel's background has luminance {theme:.2f}: not the theme")
    return problems


def send_from_the_panel(walk: Walk, address: str, dpt: str, value: str) -> None:
    page = walk.page
    if not page.get_by_role("button", name="Send", exact=True).is_visible():
        page.get_by_role("button", name="Send / read").click()
    page.get_by_label("Group address", exact=True).fill(address)
    page.get_by_label("Datapoint type", exact=True).fill(dpt)
    page.get_by_label("Value", exact=True).fill(value)
    page.get_by_role("button", name="Send", exact=True).click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_panel_is_readable_in_the_light_and_dark_themes(
    walk: Walk,
    home_assistant: HomeAssistant,
    gateway: Gateway,
    switch: str,
    scheme: Literal["light", "dark"],
) -> None:
    """The user's theme is on auto (a new user's default): Home Assistant follows the
    browser's colour scheme, and the panel follows Home Assistant's theme."""
    page = walk.page
    page.emulate_media(color_scheme=scheme)
    try:
        open_panel(walk, home_assistant)
        turn(home_assistant, switch, False)  # a Data Secure write (off: the last test turns on)
        forge_plain_status(gateway)  # a rejected row
        send_from_the_panel(walk, "1/1/6", "1.001", "nonsense")  # the send form's error
        result = page.locator("knx-secure-panel #send-result.error")
        walk.see(result, f"{scheme}_send_error", "the send form's error")
        problems = unreadable(walk, ("#send-result",), scheme == "dark")
        send_from_the_panel(walk, "1/1/6", "1.001", "true")  # 1/1/6 has no key: a plain row
        walk.see(rows(walk).filter(has_text="1/1/6").first, f"{scheme}_plain", "the plain row")
        for security in ("secure", "rejected"):
            row = page.locator(f"knx-secure-panel .row.{security}").first
            walk.see(row, f"{scheme}_{security}", f"a {security} row")
        page.get_by_label("Search").fill("1/1")  # a filter with text, for its colour
        problems += unreadable(walk, READABLE, scheme == "dark")
        walk.check(lambda: not problems, f"{scheme}_contrast", f"unreadable: {problems}")
    finally:
        page.emulate_media(color_scheme="light")


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
