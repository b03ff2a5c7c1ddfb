"""What a newcomer sees in Home Assistant's UI, in headless Chromium.

The tests of this module share one Home Assistant, gateway and browser tab (module fixtures)
and run in order: the first adds the integration through the UI; the later ones add it the
same way first when run alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import (
    KEYRING_PASSWORD,
    KEYRING_PATH,
    UI_TIMEOUT_MS,
    Gateway,
    HomeAssistant,
    Screenshots,
    wait_until,
)

INTEGRATION = "KNX Secure"
PROJECT = "Secure Test"
ENTRY_TITLE = f"{PROJECT} (KNX Secure virtual gateway)"
SECURE_TUNNEL = "Secure tunnel (KNX IP Secure, TCP)"


@dataclass
class Walk:
    """Steps of the user: every check takes a screenshot, named in a failure's message."""

    page: Page
    screenshots: Screenshots

    def see(self, locator: Locator, step: str, what: str) -> None:
        """The locator becomes visible."""
        self._expect(
            lambda: expect(locator).to_be_visible(timeout=UI_TIMEOUT_MS),
            step,
            f"{what} is not shown",
        )

    def checked(self, toggle: Locator, checked: bool, step: str) -> None:
        """The toggle shows the state (it follows Home Assistant's state over its websocket)."""
        self._expect(
            lambda: expect(toggle).to_be_checked(checked=checked, timeout=UI_TIMEOUT_MS),
            step,
            f"the toggle does not show {'on' if checked else 'off'}",
        )

    def _expect(self, assertion: Callable[[], None], step: str, failure: str) -> None:
        """Run a waiting Playwright assertion; a screenshot of the step either way."""
        try:
            assertion()
        except AssertionError as err:
            shot = self.screenshots.take(self.page, f"{step}_FAILED")
            raise AssertionError(f"{failure}; screenshot {shot}") from err
        self.screenshots.take(self.page, step)

    def text(self, text: str, step: str) -> None:
        self.see(self.dialog.get_by_text(text).first, step, f"text {text!r}")

    def check(self, condition: Callable[[], bool], step: str, what: str) -> None:
        shot = self.screenshots.take(self.page, step)
        assert condition(), f"{what}; screenshot {shot}"

    @property
    def dialog(self) -> Locator:
        return self.page.locator("ha-dialog, ha-md-dialog, dialog-data-entry-flow").last

    def submit(self) -> None:
        self.page.get_by_role("button", name="Submit").click()


@pytest.fixture(scope="module")
def walk(page: Page, screenshots: Screenshots) -> Walk:
    return Walk(page, screenshots)


# --- the steps -------------------------------------------------------------------------------


def open_add_integration(walk: Walk, home_assistant: HomeAssistant) -> None:
    page = walk.page
    page.goto(home_assistant.url + "/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    search = walk.dialog.get_by_role("textbox", name="Search")
    walk.see(search, "search_integrations", "the search box of the integrations")
    search.fill(INTEGRATION)
    page.get_by_text(INTEGRATION, exact=True).last.click()
    walk.text("ETS keyring", "keyring_form")


def enter_keyring(walk: Walk, password: str) -> None:
    walk.page.get_by_role("textbox", name="Keyring password").fill(password)
    walk.submit()


def choose_connection(walk: Walk, label: str) -> None:
    """The connection type step: one radio button per type the keyring can serve."""
    walk.text("Connection", "connection_form")
    choice = walk.page.get_by_role("radio", name=label)
    walk.see(choice, "connection_choice", f"the connection type {label!r}")
    choice.check()
    walk.submit()


def enter_gateway(walk: Walk, gateway: Gateway) -> None:
    """The manual address step (the search of the sandbox finds nothing on 127.0.0.1)."""
    walk.text("Gateway address", "gateway_form")
    walk.page.get_by_role("textbox", name="Host").fill("127.0.0.1")
    walk.page.get_by_role("spinbutton", name="Port").fill(str(gateway.port))
    walk.submit()


def choose_automatic_tunnel(walk: Walk) -> None:
    automatic = walk.page.get_by_role("radio", name="Automatic: the first free tunnel that works")
    walk.see(automatic, "tunnel_form", "the Automatic tunnel choice")
    automatic.check()
    walk.submit()


def connect_secure_tunnel(
    walk: Walk, home_assistant: HomeAssistant, gateway: Gateway, keyring: Path, password: str
) -> None:
    """Keyring, secure tunnel, the gateway by address and the Automatic tunnel: the flow is
    at the optional project step."""
    open_add_integration(walk, home_assistant)
    walk.page.set_input_files("input[type=file]", keyring)
    walk.see(walk.dialog.get_by_text(keyring.name), "keyring_uploaded", "the keyring")
    enter_keyring(walk, password)
    choose_connection(walk, SECURE_TUNNEL)
    enter_gateway(walk, gateway)
    choose_automatic_tunnel(walk)


def entry_created(walk: Walk, home_assistant: HomeAssistant, project: str) -> None:
    """The flow's last page; Finish, then the entry is loaded."""
    walk.text(f"Created configuration for {project}", "entry_created")
    walk.page.get_by_role("button", name="Finish").click()
    wait_until(
        lambda: [e["state"] for e in home_assistant.config_entries()] == ["loaded"],
        60.0,
        "the entry to be loaded",
    )


def skip_project(walk: Walk) -> None:
    """The optional ETS project step after the connection test: one click skips it."""
    walk.text("Import the ETS project (optional)", "project_form")
    walk.submit()


def add_integration(walk: Walk, home_assistant: HomeAssistant, gateway: Gateway) -> None:
    """A newcomer's first setup: a wrong password first, then the right one only."""
    open_add_integration(walk, home_assistant)
    walk.page.set_input_files("input[type=file]", KEYRING_PATH)
    walk.see(walk.dialog.get_by_text(KEYRING_PATH.name), "keyring_uploaded", "the uploaded file")
    enter_keyring(walk, "not the password")
    walk.text("The keyring password is wrong.", "wrong_password")
    walk.text("The keyring file you uploaded is kept", "kept_file_hint")
    enter_keyring(walk, KEYRING_PASSWORD)
    choose_connection(walk, SECURE_TUNNEL)
    enter_gateway(walk, gateway)
    choose_automatic_tunnel(walk)
    skip_project(walk)
    walk.text(f"Created configuration for {PROJECT}", "entry_created")
    walk.page.get_by_role("button", name="Finish").click()


def open_integration_page(
    walk: Walk, home_assistant: HomeAssistant, title: str = ENTRY_TITLE
) -> None:
    walk.page.goto(home_assistant.url + "/config/integrations/integration/knx_secure")
    walk.see(walk.page.get_by_text(title).first, "integration_page", "the entry")


def click_add(walk: Walk, home_assistant: HomeAssistant, label: str, title: str) -> None:
    """Add switch, Add number, ...: a button of the entry on newer Home Assistant, in the
    entry's ⋮ menu on 2025.4 (the first menu of the page is the entry's row).
    """
    open_integration_page(walk, home_assistant, title)
    button = walk.page.get_by_role("button", name=label, exact=True)
    if button.count():
        button.first.click()
        return
    menus = "ha-config-entry-row ha-md-button-menu, ha-md-button-menu, ha-button-menu"
    walk.page.locator(menus).first.click()
    item = walk.page.get_by_role("menuitem", name=label, exact=True)
    walk.see(item, "entry_menu", f"the menu item {label}")
    item.click()


def click_add_switch(walk: Walk, home_assistant: HomeAssistant, title: str) -> None:
    click_add(walk, home_assistant, "Add switch", title)


def field_label(label: str) -> re.Pattern[str]:
    """A field's accessible name: its label, with a "*" when required."""
    return re.compile(rf"^{re.escape(label)}\*?$")


def add_switch(
    walk: Walk,
    home_assistant: HomeAssistant,
    name: str,
    *addresses: str,
    title: str = ENTRY_TITLE,
) -> None:
    """Fill the switch form (name, group address, optional status address) of the entry
    with this title and submit it."""
    click_add_switch(walk, home_assistant, title)
    walk.text("A switch writes on and off", "switch_form")
    walk.page.get_by_role("textbox", name=field_label("Name")).fill(name)
    walk.page.get_by_role("textbox", name=field_label("Group address")).fill(addresses[0])
    if len(addresses) > 1:
        status = field_label("Status group address")
        walk.page.get_by_role("textbox", name=status).fill(addresses[1])
    walk.submit()
    walk.text("Check group addresses", f"confirm_{name}")


def save_switch(walk: Walk, home_assistant: HomeAssistant, name: str) -> str:
    """Submit the confirm step; return the switch's entity ID once it has a state."""
    walk.submit()
    walk.text(f"Created configuration for {name}.", f"saved_{name}")
    walk.page.get_by_role("button", name="Finish").click()
    row = walk.page.locator("ha-config-entry-row, ha-list-item, ha-md-list-item")
    walk.see(row.filter(has_text=name).first, f"listed_{name}", f"the entry's row of {name}")
    found: dict[str, str] = {}

    def switch_has_state() -> bool:
        found.update(home_assistant.entity_ids("switch"))
        return name in found

    wait_until(switch_has_state, 60.0, f"a state of the switch {name}")
    return found[name]


@pytest.fixture(scope="module")
def knx_entry(walk: Walk, home_assistant: HomeAssistant, gateway: Gateway) -> None:
    """The integration's entry, added through the UI unless a test before did it."""
    if not home_assistant.config_entries():
        add_integration(walk, home_assistant, gateway)
    wait_until(
        lambda: [e["state"] for e in home_assistant.config_entries()] == ["loaded"],
        60.0,
        "the entry to be loaded",
    )


# --- the tests -------------------------------------------------------------------------------


def test_newcomer_adds_the_integration(
    walk: Walk, home_assistant: HomeAssistant, gateway: Gateway
) -> None:
    add_integration(walk, home_assistant, gateway)

    open_integration_page(walk, home_assistant)
    entries = home_assistant.config_entries()
    walk.check(
        lambda: [(e["title"], e["state"]) for e in entries] == [(ENTRY_TITLE, "loaded")],
        "entry_loaded",
        f"one loaded entry {ENTRY_TITLE!r} expected, got {entries}",
    )


def test_switch_added_from_the_entry_menu_and_toggled_follows_the_actuator(
    walk: Walk, home_assistant: HomeAssistant, knx_entry: None
) -> None:
    add_switch(walk, home_assistant, "Hall light", "1/1/1", "1/1/2")
    walk.text("Data Secure (the keyring has their key): 1/1/1, 1/1/2", "confirm_secure")
    walk.check(
        lambda: walk.dialog.get_by_text("Warning").count() == 0,
        "confirm_no_warning",
        "a secure switch gets no warning",
    )
    entity_id = save_switch(walk, home_assistant, "Hall light")
    toggle_on_and_off(walk, home_assistant, "Hall light", entity_id)


def toggle_on_and_off(walk: Walk, home_assistant: HomeAssistant, name: str, entity_id: str) -> None:
    """Switch on and off in the more-info dialog; the state follows the actuator's status."""
    home_assistant.wait_for_state(entity_id, "off")
    walk.page.goto(home_assistant.url + "/config/entities")
    walk.page.get_by_text(name).first.click()
    toggle = walk.dialog.get_by_role("switch").first
    walk.see(toggle, "more_info", "the more-info toggle")
    toggle.click()
    # "on" comes from the actuator's status telegram on 1/1/2: the switch has a status address.
    home_assistant.wait_for_state(entity_id, "on")
    walk.checked(toggle, True, "toggled_on")
    walk.see(walk.dialog.get_by_text("On", exact=True), "more_info_on", "the state On")
    toggle.click()
    home_assistant.wait_for_state(entity_id, "off")
    walk.checked(toggle, False, "toggled_off")


def test_plain_group_address_warns_in_text_not_as_an_error(
    walk: Walk, home_assistant: HomeAssistant, knx_entry: None
) -> None:
    add_switch(walk, home_assistant, "Garden light", "1/1/5")
    walk.text("Plain (no key in the keyring): 1/1/5", "confirm_plain")
    walk.text("unencrypted (plain)", "plain_warning_text")
    walk.check(
        lambda: walk.page.locator("ha-alert[alert-type=error]").count() == 0,
        "no_error_alert",
        "the plain-address warning is shown as an error alert",
    )
    walk.check(
        lambda: "**" not in walk.dialog.inner_text(),
        "warning_markdown_rendered",
        "the warning's markdown is shown raw",
    )
    save_switch(walk, home_assistant, "Garden light")
