"""A newcomer with an ETS project, in headless Chromium: the gateway added with the demo home's
keyring and its ETS project (demo/Demo Home.knxproj) imported in the same flow; a light and a
sensor created from the project in one go, working against the demo home's devices; the
project's names in a form's address picker and in the group monitor.

Its own Home Assistant and tab (module fixtures); the virtual installation is the demo home
(demo/installation.json behind the demo keyring's gateway).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    REPO,
    UI_TIMEOUT_MS,
    Gateway,
    HomeAssistant,
    Screenshots,
    start_installation,
    stop_process,
    wait_until,
)
from .test_ui import (
    SECURE_TUNNEL,
    Walk,
    choose_automatic_tunnel,
    choose_connection,
    enter_gateway,
    enter_keyring,
    open_add_integration,
)

DEMO = REPO / "demo"
KEYRING = DEMO / "Demo Home.knxkeys"
PASSWORD = "demo"
PROJECT_FILE = DEMO / "Demo Home.knxproj"
TITLE = "Demo Home (KNX Secure virtual gateway)"
LIGHT = "Living room light"  # the ETS 6 function of the demo's dimmer 1.1.2
SENSOR = "Outdoor temperature"  # 1/5/1, 9.001, of the demo's sensor 1.1.6


@pytest.fixture(scope="module")
def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The virtual gateway of the demo home with all its devices."""
    log = tmp_path_factory.mktemp("demo-gateway") / "gateway.log"
    process, ready = start_installation(
        log,
        *("--bind", "127.0.0.1", "--port", "0"),
        *("--installation", str(DEMO / "installation.json")),
        keyring=KEYRING,
        password=PASSWORD,
        switches=(),
    )
    try:
        yield Gateway(int(str(ready["listening"]).rsplit(":", 1)[1]), log)
    finally:
        stop_process(process, "the demo gateway", log)


@pytest.fixture(scope="module")
def installation(demo_gateway: Gateway) -> object:
    """Home Assistant of this module reaches the demo home."""
    return demo_gateway


@pytest.fixture(scope="module")
def walk(page: Page, screenshots: Screenshots) -> Walk:
    return Walk(page, screenshots)


def add_integration_with_project(
    walk: Walk, gateway: Gateway, home_assistant: HomeAssistant
) -> None:
    """Keyring, connection, gateway and tunnel as in test_ui, then the project's step."""
    open_add_integration(walk, home_assistant)
    walk.page.set_input_files("input[type=file]", KEYRING)
    walk.see(walk.dialog.get_by_text(KEYRING.name), "keyring_uploaded", "the uploaded keyring")
    enter_keyring(walk, PASSWORD)
    choose_connection(walk, SECURE_TUNNEL)
    enter_gateway(walk, gateway)
    choose_automatic_tunnel(walk)
    walk.text("Import the ETS project (optional)", "project_form")
    walk.page.set_input_files("input[type=file]", PROJECT_FILE)
    walk.see(walk.dialog.get_by_text(PROJECT_FILE.name), "project_uploaded", "the uploaded project")
    walk.submit()
    walk.text("Created configuration for Demo Home", "entry_created")
    walk.page.get_by_role("button", name="Finish").click()
    wait_until(
        lambda: [e["state"] for e in home_assistant.config_entries()] == ["loaded"],
        60.0,
        "the entry to be loaded",
    )


def click_add(walk: Walk, home_assistant: HomeAssistant, label: str) -> None:
    """An entry's add button on newer Home Assistant; its ⋮ menu item on 2025.4."""
    walk.page.goto(home_assistant.url + "/config/integrations/integration/knx_secure")
    walk.see(walk.page.get_by_text(TITLE).first, "integration_page", "the entry")
    button = walk.page.get_by_role("button", name=label, exact=True)
    if button.count():
        button.first.click()
        return
    menus = "ha-config-entry-row ha-md-button-menu, ha-md-button-menu, ha-button-menu"
    walk.page.locator(menus).first.click()
    item = walk.page.get_by_role("menuitem", name=label, exact=True)
    walk.see(item, f"entry_menu_{label}", f"the menu item {label}")
    item.click()


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
    add_integration_with_project(walk, demo_gateway, home_assistant)
    click_add(walk, home_assistant, "Add entities from the ETS project")
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
    click_add(walk, home_assistant, "Add switch")
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
    rows = walk.page.locator("knx-secure-panel tr.row")
    row = rows.filter(has_text="1/2/1").first
    walk.see(row, "monitor_light_switch", "the row of the write to 1/2/1")
    expect(row).to_contain_text("Living room light switch", timeout=UI_TIMEOUT_MS)
    status = rows.filter(has_text="1/2/2").first
    walk.see(status, "monitor_light_status", "the dimmer's status on 1/2/2")
    expect(status).to_contain_text("Living room light status", timeout=UI_TIMEOUT_MS)
