"""The light form in headless Chromium: a newcomer adds a light on the seed actuator (switch
1/1/1, status 1/1/2) and switches it from the entity's dialog.

Its own Home Assistant and gateway (module fixtures); the integration is added through the
UI first, as in test_ui.
"""

from __future__ import annotations

from . import test_ui
from .conftest import HomeAssistant, wait_until
from .test_ui import Walk, field_label, open_integration_page

# test_ui's module fixtures, here for this module's own Home Assistant and gateway
walk = test_ui.walk
knx_entry = test_ui.knx_entry

NAME = "Porch light"


def click_add_light(walk: Walk, home_assistant: HomeAssistant) -> None:
    """Add light: a button on newer Home Assistant, in the entry's ⋮ menu on 2025.4."""
    open_integration_page(walk, home_assistant)
    button = walk.page.get_by_role("button", name="Add light")
    if button.count():
        button.first.click()
        return
    menus = "ha-config-entry-row ha-md-button-menu, ha-md-button-menu, ha-button-menu"
    walk.page.locator(menus).first.click()
    item = walk.page.get_by_role("menuitem", name="Add light")
    walk.see(item, "entry_menu", "the menu item Add light")
    item.click()


def test_light_added_and_switched_from_its_dialog(
    walk: Walk, home_assistant: HomeAssistant, knx_entry: None
) -> None:
    click_add_light(walk, home_assistant)
    walk.text("A light switches on and off", "light_form")
    page = walk.page
    page.get_by_role("textbox", name=field_label("Name")).fill(NAME)
    page.get_by_role("textbox", name=field_label("Switch group address")).fill("1/1/1")
    page.get_by_role("textbox", name=field_label("Switch status group address")).fill("1/1/2")
    walk.submit()
    walk.text("Data Secure (the keyring has their key): 1/1/1, 1/1/2", "light_confirm")
    walk.submit()
    walk.text(f"Created configuration for {NAME}.", "light_saved")
    page.get_by_role("button", name="Finish").click()

    found: dict[str, str] = {}

    def light_has_state() -> bool:
        found.update(home_assistant.entity_ids("light"))
        return NAME in found

    wait_until(light_has_state, 60.0, f"a state of the light {NAME}")
    entity_id = found[NAME]
    home_assistant.wait_for_state(entity_id, "off")

    page.goto(home_assistant.url + "/config/entities")
    page.get_by_text(NAME).first.click()
    toggle = walk.dialog.get_by_role("switch").first
    walk.see(toggle, "light_more_info", "the light's toggle")
    toggle.click()
    # "on" comes from the actuator's status telegram on 1/1/2.
    home_assistant.wait_for_state(entity_id, "on")
    walk.checked(toggle, True, "light_on")
    toggle.click()
    home_assistant.wait_for_state(entity_id, "off")
    walk.checked(toggle, False, "light_off")
