"""A newcomer adds a sensor in Home Assistant's UI (headless Chromium): the datapoint type is
found by typing in its list, and the confirmation tells what the type gives.

Its own Home Assistant, gateway and tab (module fixtures); the entry is added through the UI
first, as in test_ui.
"""

from __future__ import annotations

import re

from .conftest import Gateway, HomeAssistant, wait_until
from .test_ui import Walk, add_integration, field_label, open_integration_page, walk

__all__ = ["walk"]  # the module fixture of test_ui, used here too

NAME = "Outdoor temperature"


def click_add_sensor(walk: Walk, home_assistant: HomeAssistant) -> None:
    """Add sensor: a button on newer Home Assistant, the entry's ⋮ menu on 2025.4."""
    open_integration_page(walk, home_assistant)
    button = walk.page.get_by_role("button", name="Add sensor", exact=True)
    if button.count():
        button.first.click()
        return
    menus = "ha-config-entry-row ha-md-button-menu, ha-md-button-menu, ha-button-menu"
    walk.page.locator(menus).first.click()
    item = walk.page.get_by_role("menuitem", name="Add sensor", exact=True)
    walk.see(item, "entry_menu_sensor", "the menu item Add sensor")
    item.click()


def test_temperature_sensor_type_found_by_typing(
    walk: Walk, home_assistant: HomeAssistant, gateway: Gateway
) -> None:
    add_integration(walk, home_assistant, gateway)
    click_add_sensor(walk, home_assistant)
    walk.text("A sensor shows the value of a group address", "sensor_form")
    page = walk.page
    page.get_by_role("textbox", name=field_label("Name")).fill(NAME)
    page.get_by_role("textbox", name=field_label("Group address")).fill("1/1/2")
    value_type = page.get_by_role("combobox", name=field_label("Datapoint type"))
    walk.see(value_type, "type_combobox", "the datapoint type's searchable list")
    value_type.click()
    value_type.fill("temperature")
    option = page.get_by_role("option", name=re.compile(r"^9\.001 temperature \(°C\)"))
    walk.see(option.first, "type_found", "the option 9.001 temperature (°C)")
    option.first.click()
    walk.submit()
    walk.text("with device class temperature, unit °C and state class measurement", "confirm")
    walk.submit()
    walk.text(f"Created configuration for {NAME}.", "sensor_saved")
    page.get_by_role("button", name="Finish").click()
    found: dict[str, str] = {}

    def sensor_listed() -> bool:
        found.update(home_assistant.entity_ids("sensor"))
        return NAME in found

    wait_until(sensor_listed, 60.0, f"a state of the sensor {NAME}")
    # Nothing answers 9.001 on the switch's status address: the sensor waits for a value.
    assert home_assistant.state(found[NAME]) == "unknown"
