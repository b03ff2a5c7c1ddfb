"""The demo home in headless Chromium: a newcomer adds the integration with the demo keyring,
then a cover with position and a climate entity through their subentry forms (the demo home's
addresses, docs/DEMO.md), and operates each from the entity's more-info dialog: the cover to a
position, up and stop; the climate's target temperature and HVAC mode. What the dialog shows
afterwards is the simulated blind's and room controller's status, coming back from the bus.

Its own Home Assistant, tab and installation (module fixtures, those of test_values_ui): the
gateway command with the demo keyring and the demo home's installation file.
"""

from __future__ import annotations

import re
from typing import Any

from .conftest import HomeAssistant, wait_until
from .test_ui import Walk, click_add, field_label, walk
from .test_values_ui import TITLE, demo_entry, demo_gateway, installation, open_more_info

# The module fixtures of test_ui (the tab) and test_values_ui (the demo home's gateway, Home
# Assistant reaching it, its entry added through the UI), here for this module's own.
__all__ = ["demo_entry", "demo_gateway", "installation", "walk"]

COVER = "Living room blind"
CLIMATE = "Living room climate"
STATUS_TIMEOUT = 90.0  # the blind travels 20 s end to end; a loaded machine is slower


# --- steps -----------------------------------------------------------------------------------


def label_pattern(label: str) -> re.Pattern[str]:
    """field_label with "/" escaped too: Playwright ends a regular expression at a bare "/"
    ("Up/down group address")."""
    return re.compile(field_label(label).pattern.replace("/", r"\/"))


def fill(walk: Walk, fields: dict[str, str]) -> None:
    """Fill text fields of the open form by their labels."""
    for label, value in fields.items():
        walk.page.get_by_role("textbox", name=label_pattern(label)).fill(value)


def save(walk: Walk, home_assistant: HomeAssistant, name: str, domain: str, secure: str) -> str:
    """Submit the form and its confirmation (every address Data Secure); return the new
    entity's ID once it has a state."""
    walk.submit()
    walk.text(f"Data Secure (the keyring has their key): {secure}", f"confirm_{domain}")
    walk.submit()
    walk.text(f"Created configuration for {name}.", f"saved_{domain}")
    walk.page.get_by_role("button", name="Finish").click()
    found: dict[str, str] = {}

    def listed() -> bool:
        found.update(home_assistant.entity_ids(domain))
        return name in found

    wait_until(listed, 60.0, f"a state of the {domain} {name}")
    return found[name]


def attributes(home_assistant: HomeAssistant, entity_id: str) -> dict[str, Any]:
    found: dict[str, Any] = home_assistant.request("GET", f"/api/states/{entity_id}")["attributes"]
    return found


def wait_for_attribute(
    home_assistant: HomeAssistant, entity_id: str, name: str, expected: object
) -> None:
    wait_until(
        lambda: attributes(home_assistant, entity_id).get(name) == expected,
        STATUS_TIMEOUT,
        f"{entity_id}'s {name} to become {expected!r} "
        f"(last: {attributes(home_assistant, entity_id).get(name)!r})",
    )


# --- the tests -------------------------------------------------------------------------------


def test_cover_added_moved_to_a_position_then_up_and_stopped(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    click_add(walk, home_assistant, "Add cover", TITLE)
    walk.text("A cover (blind, shutter, awning, ...)", "cover_form")
    fill(
        walk,
        {
            "Name": COVER,
            "Up/down group address": "1/3/1",
            "Stop group address": "1/3/2",
            "Position group address": "1/3/3",
            "Position status group address": "1/3/4",
        },
    )
    entity_id = save(walk, home_assistant, COVER, "cover", "1/3/1, 1/3/2, 1/3/3, 1/3/4")
    # The blind starts open: its status read at start says so (KNX 0 % = Home Assistant 100).
    wait_for_attribute(home_assistant, entity_id, "current_position", 100)

    dialog = open_more_info(walk, home_assistant, COVER)
    slider = dialog.get_by_role("slider").first
    walk.see(slider, "cover_more_info", "the cover's position slider")
    slider.click()  # the middle of the slider: about half open
    target = int(str(slider.get_attribute("aria-valuenow")))
    assert 30 < target < 70, target
    # The blind travels and reports its position on the way; the target only when there.
    wait_for_attribute(home_assistant, entity_id, "current_position", target)
    walk.see(
        dialog.get_by_text(re.compile(rf"\b{target}\s?%")).first,
        "cover_at_target",
        f"the position {target} %",
    )

    dialog.get_by_role("button", name="Switch to button mode").click()
    up = dialog.get_by_role("button", name="Open cover")
    walk.see(up, "cover_buttons", "the button Open cover")
    up.click()
    home_assistant.wait_for_state(entity_id, "opening", STATUS_TIMEOUT)
    wait_until(
        lambda: attributes(home_assistant, entity_id)["current_position"] > target,
        STATUS_TIMEOUT,
        "the blind's position status on its way up",
    )
    dialog.get_by_role("button", name="Stop cover").click()
    # Stopped: the actuator's final status is where it stands, between the target and open.
    home_assistant.wait_for_state(entity_id, "open", STATUS_TIMEOUT)
    stopped = attributes(home_assistant, entity_id)["current_position"]
    assert target < stopped < 100, stopped
    walk.see(
        dialog.get_by_text(re.compile(rf"\b{stopped}\s?%")).first,
        "cover_stopped",
        f"the position {stopped} % where the blind stopped",
    )


def test_climate_added_target_temperature_and_hvac_mode_set_from_its_dialog(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    click_add(walk, home_assistant, "Add climate", TITLE)
    walk.text("A climate entity shows and sets a room controller", "climate_form")
    fill(
        walk,
        {
            "Name": CLIMATE,
            "Temperature": "1/4/1",
            "Setpoint": "1/4/2",
            "Setpoint status": "1/4/3",
            "Controller mode": "1/4/6",
            "Controller mode status": "1/4/7",
            "On/off": "1/4/8",
            "On/off status": "1/4/9",
        },
    )
    secure = "1/4/1, 1/4/2, 1/4/3, 1/4/6, 1/4/7, 1/4/8, 1/4/9"
    entity_id = save(walk, home_assistant, CLIMATE, "climate", secure)
    # The room controller starts at 21 °C setpoint, heating (its status reads at start).
    wait_for_attribute(home_assistant, entity_id, "temperature", 21.0)
    home_assistant.wait_for_state(entity_id, "heat", STATUS_TIMEOUT)

    dialog = open_more_info(walk, home_assistant, CLIMATE)
    # The + and - of the target temperature have no accessible name in this frontend: the
    # last button of the temperature control is +.
    control = dialog.locator("ha-state-control-climate-temperature")
    increase = control.locator("ha-outlined-icon-button").last
    walk.see(increase, "climate_more_info", "the button that raises the target temperature")
    increase.click()
    increase.click()  # 21 -> 22 in steps of 0.5, sent once the clicks pause
    wait_for_attribute(home_assistant, entity_id, "temperature", 22.0)
    walk.see(dialog.get_by_text(re.compile(r"^22(\.0)?\s*°?")).first, "climate_22", "22 °C")

    mode = dialog.get_by_role("combobox", name="Mode")
    walk.see(mode, "climate_mode_control", "the HVAC mode control")
    mode.click()
    option = walk.page.get_by_role("option", name="Cool", exact=True)
    walk.see(option, "climate_mode_options", "the HVAC mode Cool")
    option.click()
    # "cool" comes from the room controller's controller mode status (1/4/7).
    home_assistant.wait_for_state(entity_id, "cool", STATUS_TIMEOUT)
    walk.see(mode.get_by_text("Cool", exact=True), "climate_cool", "the mode Cool")
