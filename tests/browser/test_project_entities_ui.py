"""A newcomer with an ETS project, in headless Chromium: the gateway added with the demo home's
keyring and its ETS project (demo/Demo Home.knxproj) imported in the same flow; a light and a
sensor created from the project in one go, working against the demo home's devices; the
project's names in a form's address picker and in the group monitor.

Its own Home Assistant and tab (module fixtures); the installation is the demo home behind
the gateway command (test_values_ui's fixture). The tests run in order.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import REPO, UI_TIMEOUT_MS, Gateway, HomeAssistant, wait_until
from .test_ui import Walk, click_add, connect_secure_tunnel, entry_created, walk
from .test_values_ui import DEMO_KEYRING, DEMO_PASSWORD, PROJECT, TITLE, demo_gateway

PROJECT_FILE = REPO / "demo" / "Demo Home.knxproj"
LIGHT = "Living room light"  # the ETS 6 function of the demo's dimmer 1.1.2
SENSOR = "Outdoor temperature"  # 1/5/1, 9.001, of the demo's sensor 1.1.6
__all__ = ["demo_gateway", "walk"]  # module fixtures of other modules, used here too


@pytest.fixture(scope="module")
def installation(demo_gateway: Gateway) -> object:
    """Home Assistant of this module reaches the demo home."""
    return demo_gateway


def add_integration_with_project(
    walk: Walk, home_assistant: HomeAssistant, gateway: Gateway
) -> None:
    """The demo home's keyring and gateway as in test_ui, then its project (not protected)."""
    connect_secure_tunnel(walk, home_assistant, gateway, DEMO_KEYRING, DEMO_PASSWORD)
    walk.text("Import the ETS project (optional)", "project_form")
    walk.page.set_input_files("input[type=file]", PROJECT_FILE)
    walk.see(walk.dialog.get_by_text(PROJECT_FILE.name), "project_uploaded", "the project")
    walk.submit()
    entry_created(walk, home_assistant, PROJECT)


def pick(walk: Walk, field: str, search: str, option: str | re.Pattern[str], step: str) -> None:
    """Type into a searchable picker and choose the option."""
    box = walk.dialog.get_by_role("combobox", name=re.compile(rf"^{re.escape(field)}\*?$"))
    walk.see(box, f"{step}_box", f"the picker {field!r}")
    box.click()
    box.fill(search)
    choice = walk.page.get_by_role("option", name=option)
    walk.see(choice.first, step, f"the option {option!r}")
    choice.first.click()


def entity_id(home_assistant: HomeAssistant, domain: str, name: str) -> str:
    found: dict[str, str] = {}

    def listed() -> bool:
        found.update(home_assistant.entity_ids(domain))
        return name in found

    wait_until(listed, 60.0, f"a state of the {domain} {name}")
    return found[name]


def test_light_and_sensor_created_from_the_project_in_one_go(
    walk: Walk, home_assistant: HomeAssistant, demo_gateway: Gateway
) -> None:
    add_integration_with_project(walk, home_assistant, demo_gateway)
    click_add(walk, home_assistant, "Add entities from the ETS project", TITLE)
    walk.text("Pick ETS functions", "project_entities_form")
    pick(walk, "ETS functions", "Living", f"{LIGHT} · Living room", "function_found")
    pick(
        walk,
        "Group addresses",
        "Outdoor temp",
        re.compile(r"^1\/5\/1 · Outdoor temperature"),
        "address_found",
    )
    walk.submit()
    walk.text("Entities to create", "review")
    light_row = walk.dialog.get_by_role("checkbox", name=re.compile(rf"^light · {LIGHT}"))
    sensor_row = walk.dialog.get_by_role("checkbox", name=re.compile(rf"^sensor · {SENSOR}"))
    walk.checked(light_row, True, "review_light_ticked")
    walk.checked(sensor_row, True, "review_sensor_ticked")
    walk.submit()
    walk.text(f"Created 2 entities: {LIGHT}, {SENSOR}.", "entities_created")
    walk.page.get_by_role("button", name="Close").last.click()

    light = entity_id(home_assistant, "light", LIGHT)
    sensor = entity_id(home_assistant, "sensor", SENSOR)
    # the demo's outdoor sensor answers the read at start: a temperature around 8.5 °C
    wait_until(
        lambda: re.fullmatch(r"\d+(\.\d+)?", home_assistant.state(sensor) or "") is not None,
        60.0,
        f"a temperature of {sensor}",
    )
    home_assistant.request(
        "POST", "/api/services/light/turn_on", {"entity_id": light, "brightness": 128}
    )
    home_assistant.wait_for_state(light, "on")  # the dimmer's status telegram says so


def test_project_names_in_a_forms_address_picker(walk: Walk, home_assistant: HomeAssistant) -> None:
    """Adding a switch: start from the project, the form is pre-filled; its address field
    is a picker that shows names and types."""
    click_add(walk, home_assistant, "Add switch", TITLE)
    walk.text("Start from the ETS project", "switch_from_project")
    pick(
        walk,
        "ETS function or group address",
        "Hall light switch",
        re.compile(r"^2\/1\/1 · Hall light switch \(plain\) · 1\.001"),
        "switch_source_found",
    )
    walk.submit()
    walk.text("A switch writes on and off", "switch_form_prefilled")
    name = walk.dialog.get_by_role("textbox", name=re.compile(r"^Name\*?$"))
    expect(name).to_have_value("Hall light switch (plain)", timeout=UI_TIMEOUT_MS)
    pick(
        walk,
        "Status group address",
        "Hall light status",
        re.compile(r"^2\/1\/2 · Hall light status \(plain\) · 1\.001"),
        "status_address_found",
    )
    walk.screenshots.take(walk.page, "switch_form_filled")
    walk.page.keyboard.press("Escape")


def test_project_names_in_the_group_monitor(walk: Walk, home_assistant: HomeAssistant) -> None:
    """The light's telegrams in the monitor carry the project's names of their addresses."""
    walk.page.goto(home_assistant.url + "/knx-secure")
    walk.see(walk.page.get_by_text("KNX group monitor"), "panel", "the panel's title")
    light = entity_id(home_assistant, "light", LIGHT)
    home_assistant.request("POST", "/api/services/light/turn_off", {"entity_id": light})
    home_assistant.wait_for_state(light, "off")
    rows = walk.page.locator("knx-secure-panel .row")
    row = rows.filter(has_text="1/2/1").first
    walk.see(row, "monitor_light_switch", "the row of the write to 1/2/1")
    expect(row).to_contain_text("Living room light switch", timeout=UI_TIMEOUT_MS)
    status = rows.filter(has_text="1/2/2").first
    walk.see(status, "monitor_light_status", "the dimmer's status on 1/2/2")
    expect(status).to_contain_text("Living room light status", timeout=UI_TIMEOUT_MS)
