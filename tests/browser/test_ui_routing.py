"""A newcomer whose installation has a KNX IP Secure router: the integration added through the
UI with secure routing, then a switch toggled, in headless Chromium.

The virtual installation is the gateway command as a secure router
(``gateway --routing --interface 127.0.0.1``) on a free port of a 239.x group chosen here;
Home Assistant joins that group on 127.0.0.1 with the keyring's backbone key.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .conftest import (
    KEYRING_PASSWORD,
    KEYRING_PATH,
    HomeAssistant,
    Screenshots,
    real_sockets,
    start_installation,
    stop_process,
    wait_until,
)
from .test_ui import (
    PROJECT,
    Walk,
    add_switch,
    choose_connection,
    enter_keyring,
    field_label,
    open_add_integration,
    open_integration_page,
    save_switch,
    skip_project,
    toggle_on_and_off,
)

GROUP = "239.255.71.31"  # administratively scoped: never leaves this host
SECURE_ROUTING = "Secure routing (KNX IP Secure, multicast)"
SENDER = "1.1.255"  # a Data Secure sender of 1/1/1 and 1/1/2 in the keyring


@dataclass(frozen=True)
class Router:
    port: int
    log: Path

    @property
    def title(self) -> str:
        return f"{PROJECT} (routing {GROUP}:{self.port})"


def free_udp_port() -> int:
    with real_sockets(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    """The virtual KNX IP Secure router (actuator 1/1/1 -> 1/1/2) on GROUP, 127.0.0.1."""
    log = tmp_path_factory.mktemp("router") / "router.log"
    port = free_udp_port()
    process, ready = start_installation(
        log,
        *("--routing", "--multicast-group", GROUP, "--port", str(port)),
        *("--interface", "127.0.0.1"),
    )
    assert ready["routing"] == f"{GROUP}:{port}", ready
    assert ready["secure"] is True, ready
    try:
        yield Router(port, log)
    finally:
        stop_process(process, "the virtual router", log)


@pytest.fixture(scope="module")
def installation(router: Router) -> object:
    """Home Assistant of this module reaches the router (no tunnelling gateway runs)."""
    return router


@pytest.fixture(scope="module")
def walk(page: Page, screenshots: Screenshots) -> Walk:
    return Walk(page, screenshots)


def enter_routing(walk: Walk, router: Router) -> None:
    """The routing form: the group and port of the router, loopback, a sender's address."""
    page = walk.page
    group = page.get_by_role("textbox", name=field_label("Multicast group"))
    walk.see(group, "routing_form", "the multicast group field")
    group.fill(GROUP)
    page.get_by_role("spinbutton", name=field_label("Port")).fill(str(router.port))
    page.get_by_role("textbox", name=field_label("Local interface address")).fill("127.0.0.1")
    address = field_label("Individual address of Home Assistant")
    page.get_by_role("textbox", name=address).fill(SENDER)
    walk.submit()


def test_newcomer_adds_secure_routing_and_toggles_a_switch(
    walk: Walk, home_assistant: HomeAssistant, router: Router
) -> None:
    open_add_integration(walk, home_assistant)
    walk.page.set_input_files("input[type=file]", KEYRING_PATH)
    walk.see(walk.dialog.get_by_text(KEYRING_PATH.name), "keyring_uploaded", "the uploaded file")
    enter_keyring(walk, KEYRING_PASSWORD)
    choose_connection(walk, SECURE_ROUTING)
    enter_routing(walk, router)
    skip_project(walk)
    walk.text(f"Created configuration for {PROJECT}", "entry_created")
    walk.page.get_by_role("button", name="Finish").click()
    wait_until(
        lambda: [e["state"] for e in home_assistant.config_entries()] == ["loaded"],
        60.0,
        "the routing entry to be loaded",
    )
    open_integration_page(walk, home_assistant, router.title)

    add_switch(walk, home_assistant, "Stair light", "1/1/1", "1/1/2", title=router.title)
    walk.text("Data Secure (the keyring has their key): 1/1/1, 1/1/2", "confirm_secure")
    entity_id = save_switch(walk, home_assistant, "Stair light")
    toggle_on_and_off(walk, home_assistant, "Stair light", entity_id)
