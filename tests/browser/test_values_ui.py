"""Issue 12's acceptance walk in headless Chromium, against the demo home: a newcomer adds a
number, a select, a scene and a weather entity through the UI's forms and operates or sees
each; exposes an input number helper to the hall display 1.1.30, changes the helper in its
dialog and sees that the display got the value; and the display's own read is answered.

The installation is the demo home (demo/installation.json with the demo keyring) behind the
gateway command; only the display 1.1.30 reads every 5 s instead of every 60 s, so that its
periodic read comes soon. The input number is made by this module's configuration.yaml.
The tests run in order and share one Home Assistant, gateway and tab (module fixtures).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import (
    REPO,
    Gateway,
    HomeAssistant,
    start_installation,
    stop_process,
    wait_until,
)
from .test_monitor_panel import open_panel, rows
from .test_ui import (
    Walk,
    click_add,
    connect_secure_tunnel,
    entry_created,
    field_label,
    skip_project,
    walk,
)

DEMO = REPO / "demo"
DEMO_KEYRING = DEMO / "Demo Home.knxkeys"
DEMO_PASSWORD = "demo"
PROJECT = "Demo Home"
TITLE = f"{PROJECT} (KNX Secure virtual gateway)"
DISPLAY = "1.1.30"
DISPLAY_READ_PERIOD = 5  # s; the demo's file says 60
__all__ = ["walk"]  # the module fixture of test_ui, used here too

HELPER = "input_number.outdoor_temperature"
HELPER_YAML = """\
input_number:
  outdoor_temperature:
    name: Outdoor temperature
    min: -30
    max: 50
    step: 0.5
    mode: box
"""


def demo_installation(folder: Path) -> Path:
    """demo/installation.json with the display 1.1.30 reading every DISPLAY_READ_PERIOD s."""
    installation = json.loads((DEMO / "installation.json").read_text(encoding="utf-8"))
    (display,) = [d for d in installation["devices"] if d["address"] == DISPLAY]
    display["read_period"] = DISPLAY_READ_PERIOD
    path = folder / "installation.json"
    path.write_text(json.dumps(installation), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway command serving the demo home (its keyring and installation file)."""
    folder = tmp_path_factory.mktemp("demo")
    log = folder / "gateway.log"
    process, ready = start_installation(
        log,
        *("--bind", "127.0.0.1", "--port", "0"),
        *("--installation", str(demo_installation(folder))),
        keyring=(DEMO_KEYRING, DEMO_PASSWORD),
        switches=(),
    )
    devices = ready["devices"]
    assert isinstance(devices, list)
    assert {"address": DISPLAY, "kind": "value_actuator"}.items() <= devices[-1].items()
    try:
        yield Gateway(int(str(ready["listening"]).rsplit(":", 1)[1]), log)
    finally:
        stop_process(process, "the virtual gateway", log)


@pytest.fixture(scope="module")
def installation(demo_gateway: Gateway) -> object:
    """Home Assistant of this module connects to the demo home."""
    return demo_gateway


@pytest.fixture(scope="module")
def extra_configuration() -> str:
    return HELPER_YAML


@pytest.fixture(scope="module")
def demo_entry(walk: Walk, home_assistant: HomeAssistant, demo_gateway: Gateway) -> None:
    """The demo home added through the UI, as a newcomer does."""
    connect_secure_tunnel(walk, home_assistant, demo_gateway, DEMO_KEYRING, DEMO_PASSWORD)
    skip_project(walk)
    entry_created(walk, home_assistant, PROJECT)


# --- steps ---------------------------------------------------------------------------------


def fill(walk: Walk, label: str, text: str) -> None:
    walk.page.get_by_role("textbox", name=field_label(label)).fill(text)


def choose_type(walk: Walk, label: str, dpt_id: str) -> None:
    """Type the id into the searchable type list and take its option."""
    combobox = walk.page.get_by_role("combobox", name=field_label(label))
    combobox.click()
    combobox.fill(dpt_id)
    walk.page.get_by_role("option", name=re.compile(rf"^{re.escape(dpt_id)}\b")).first.click()


def confirm_and_save(walk: Walk, name: str, secure: str) -> None:
    """The confirmation lists the Data Secure addresses; save and close."""
    walk.submit()
    walk.text(f"Data Secure (the keyring has their key): {secure}", f"confirm_{name}")
    walk.submit()
    walk.text(f"Created configuration for {name}.", f"saved_{name}")
    walk.page.get_by_role("button", name="Finish").click()


def entity_of(home_assistant: HomeAssistant, domain: str, name: str) -> str:
    """The entity ID of the named entity once it has a state."""
    found: dict[str, str] = {}

    def listed() -> bool:
        found.update(home_assistant.entity_ids(domain))
        return name in found

    wait_until(listed, 60.0, f"a state of the {domain} {name}")
    return found[name]


def open_more_info(walk: Walk, home_assistant: HomeAssistant, name: str) -> Locator:
    """The entity's more-info dialog, opened the way the frontend opens it from any card.

    Not by clicking its row on the entities page: that table renders anew on every state
    change, and the demo home's sensors change something every few seconds, so a row found
    one moment is gone the next (the clicks failed that way under load)."""
    found: dict[str, str] = {}

    def listed() -> bool:
        found.update(
            {
                state["attributes"].get("friendly_name", ""): state["entity_id"]
                for state in home_assistant.request("GET", "/api/states")
            }
        )
        return name in found

    wait_until(listed, 60.0, f"a state named {name}")
    walk.page.goto(home_assistant.url + "/config/entities")
    dialog = walk.page.locator("ha-more-info-dialog")
    title = dialog.get_by_text(name).first

    def dialog_opened() -> bool:
        # Asked again until it opens: the frontend listens only once it has loaded the dialog.
        walk.page.evaluate(
            """entityId => document.querySelector("home-assistant")?.dispatchEvent(
                new CustomEvent("hass-more-info",
                                {detail: {entityId}, bubbles: true, composed: true}))""",
            found[name],
        )
        try:
            title.wait_for(timeout=2000)
        except PlaywrightTimeoutError:
            return False
        return True

    wait_until(dialog_opened, 60.0, f"the dialog of {name}")
    dialog = walk.page.locator("ha-more-info-dialog")
    walk.see(dialog.get_by_text(name).first, f"more_info_{name}", f"the dialog of {name}")
    return dialog


def attribute(home_assistant: HomeAssistant, entity_id: str, key: str) -> object:
    return home_assistant.request("GET", f"/api/states/{entity_id}")["attributes"].get(key)


# --- the walk ------------------------------------------------------------------------------


def test_a_number_is_added_and_set(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    """The boiler setpoint (9.001 on 1/6/3, status 1/6/4, 55 °C in the value actuator)."""
    click_add(walk, home_assistant, "Add number", TITLE)
    walk.text("A number writes a value", "number_form")
    fill(walk, "Name", "Boiler setpoint")
    fill(walk, "Group address", "1/6/3")
    fill(walk, "Status group address", "1/6/4")
    choose_type(walk, "Datapoint type", "9.001")
    confirm_and_save(walk, "Boiler setpoint", "1/6/3, 1/6/4")
    entity_id = entity_of(home_assistant, "number", "Boiler setpoint")
    home_assistant.wait_for_state(entity_id, "55.0")  # read from the status address

    open_more_info(walk, home_assistant, "Boiler setpoint")
    value = walk.dialog.get_by_role("spinbutton").first
    walk.see(value, "number_box", "the number's input box")
    value.fill("60")  # a value 9.001 carries exactly (61.5 would come back as 61.52)
    value.press("Enter")
    home_assistant.wait_for_state(entity_id, "60.0")  # the actuator's status telegram
    walk.screenshots.take(walk.page, "number_set")


def test_a_select_is_added_and_chosen(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    """The fan program (5.010 on 1/6/7, status 1/6/8, step 1 in the value actuator)."""
    click_add(walk, home_assistant, "Add select", TITLE)
    walk.text("A select writes the value", "select_form")
    fill(walk, "Name", "Fan program")
    fill(walk, "Group address", "1/6/7")
    fill(walk, "Status group address", "1/6/8")
    fill(walk, "Options", "Off = 0\nLow = 1\nHigh = 2")
    confirm_and_save(walk, "Fan program", "1/6/7, 1/6/8")
    entity_id = entity_of(home_assistant, "select", "Fan program")
    home_assistant.wait_for_state(entity_id, "Low")

    open_more_info(walk, home_assistant, "Fan program")
    walk.dialog.locator("ha-select").first.click()
    walk.page.get_by_role("option", name="High").click()
    home_assistant.wait_for_state(entity_id, "High")
    walk.screenshots.take(walk.page, "select_chosen")


def test_a_scene_is_added_and_activated(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    """Scene 3 of the living room's scene actuator (17.001 on 1/6/21)."""
    click_add(walk, home_assistant, "Add scene", TITLE)
    walk.text("Activating a scene writes its scene number", "scene_form")
    fill(walk, "Name", "Evening")
    fill(walk, "Group address", "1/6/21")
    walk.page.get_by_role("spinbutton", name=field_label("Scene number")).fill("3")
    confirm_and_save(walk, "Evening", "1/6/21")
    entity_id = entity_of(home_assistant, "scene", "Evening")
    assert home_assistant.state(entity_id) == "unknown"  # never activated

    open_more_info(walk, home_assistant, "Evening")
    walk.dialog.get_by_role("button", name="Activate").click()
    wait_until(
        lambda: home_assistant.state(entity_id) not in ("unknown", None),
        60.0,
        "the scene's activation time",
    )
    walk.screenshots.take(walk.page, "scene_activated")


def test_a_weather_entity_shows_the_weather_station(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    """The weather station 1.1.14 (temperature 1/6/50, wind 1/6/55, humidity 1/6/59, rain
    and frost alarms 1/6/57, 1/6/58, brightness south 1/6/51)."""
    click_add(walk, home_assistant, "Add weather", TITLE)
    walk.text("A weather entity from a KNX weather station", "weather_form")
    fill(walk, "Name", "Garden weather")
    fill(walk, "Temperature", "1/6/50")
    fill(walk, "Brightness south", "1/6/51")
    fill(walk, "Wind speed", "1/6/55")
    fill(walk, "Rain alarm", "1/6/57")
    fill(walk, "Frost alarm", "1/6/58")
    fill(walk, "Humidity", "1/6/59")
    confirm_and_save(walk, "Garden weather", "1/6/50, 1/6/51, 1/6/55, 1/6/57, 1/6/58, 1/6/59")
    entity_id = entity_of(home_assistant, "weather", "Garden weather")
    wait_until(
        lambda: isinstance(attribute(home_assistant, entity_id, "temperature"), float),
        60.0,
        "the weather station's temperature",
    )
    open_more_info(walk, home_assistant, "Garden weather")
    walk.see(walk.dialog.get_by_text("Humidity"), "weather_more_info", "the humidity")


def test_an_expose_of_a_helper_reaches_the_display_and_answers_its_reads(
    walk: Walk, home_assistant: HomeAssistant, demo_entry: None
) -> None:
    """An expose of the input number on the display's 1/6/201 (9.001); the helper changed in
    its dialog; the group monitor's read of 1/6/201 is answered by the display with the value
    it received (Home Assistant does not hear its own read); the display's periodic read is
    answered by Home Assistant with the current value, Data Secure both ways."""
    click_add(walk, home_assistant, "Add expose", TITLE)
    walk.text("An expose sends a Home Assistant value", "expose_form")
    fill(walk, "Name", "Outdoor for the display")
    fill(walk, "Group address", "1/6/201")
    choose_type(walk, "Datapoint type", "9.001")
    entity = walk.page.get_by_role("combobox", name=field_label("Entity"))
    entity.click()
    entity.fill(HELPER)
    walk.page.get_by_role("option").filter(has_text=HELPER).first.click()
    confirm_and_save(walk, "Outdoor for the display", "1/6/201")

    open_more_info(walk, home_assistant, "Outdoor temperature")
    value = walk.dialog.get_by_role("spinbutton").first
    walk.see(value, "helper_box", "the input number's box")
    value.fill("12.5")
    value.press("Enter")
    home_assistant.wait_for_state(HELPER, "12.5")

    open_panel(walk, home_assistant)
    page = walk.page
    page.get_by_role("button", name="Send / read").click()
    page.get_by_label("Group address").fill("1/6/201")
    page.get_by_label("Service").select_option("read")
    page.get_by_role("button", name="Send", exact=True).click()
    walk.see(
        page.get_by_text(f"Answered by {DISPLAY}."), "display_answered", "the display's answer"
    )
    answer = rows(walk).filter(has_text=DISPLAY).filter(has_text="response").first
    walk.see(answer, "display_has_the_value", "the display's response row")
    expect(answer).to_contain_text("12.5")
    expect(answer.locator(".badge")).to_have_text("Data Secure")

    # the display reads every DISPLAY_READ_PERIOD s; Home Assistant's answer is a sent row
    ours = rows(walk).filter(has_text="↑ out").filter(has_text="response").first
    walk.see(ours, "read_answered", "Home Assistant's answer to the display's read")
    expect(ours).to_contain_text("1/6/201")
    expect(ours).to_contain_text("12.5")
    expect(ours.locator(".badge")).to_have_text("Data Secure")
    read = rows(walk).filter(has_text=DISPLAY).filter(has_text="read").first
    walk.see(read, "display_read", "the display's read of 1/6/201")
