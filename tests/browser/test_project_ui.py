"""Issue 14 in headless Chromium: a newcomer adds the demo home and imports its ETS project
(a password protected ETS 6 export) at the optional project step, mistyping the password
first; then the integration's options show the imported project.

The installation is the demo home behind the gateway command (test_values_ui's fixture).
The tests run in order and share one Home Assistant, gateway and tab (module fixtures).
"""

from __future__ import annotations

import pytest

from .conftest import REPO, Gateway, HomeAssistant
from .test_ui import (
    Walk,
    connect_secure_tunnel,
    entry_created,
    open_integration_page,
    walk,
)
from .test_values_ui import DEMO_KEYRING, DEMO_PASSWORD, PROJECT, TITLE, demo_gateway

PROJECT_FILE = REPO / "tests" / "fixtures" / "projects" / "ets6-protected.knxproj"
PROJECT_PASSWORD = "Grüße aus ETS 6!"
__all__ = ["demo_gateway", "walk"]  # module fixtures of other modules, used here too


@pytest.fixture(scope="module")
def installation(demo_gateway: Gateway) -> object:
    """Home Assistant of this module connects to the demo home."""
    return demo_gateway


def enter_project_password(walk: Walk, password: str) -> None:
    walk.page.get_by_role("textbox", name="Project password").fill(password)
    walk.submit()


def test_newcomer_imports_the_project_when_adding_the_gateway(
    walk: Walk, home_assistant: HomeAssistant, demo_gateway: Gateway
) -> None:
    connect_secure_tunnel(walk, home_assistant, demo_gateway, DEMO_KEYRING, DEMO_PASSWORD)
    walk.text("Import the ETS project (optional)", "project_form")
    walk.page.set_input_files("input[type=file]", PROJECT_FILE)
    walk.see(walk.dialog.get_by_text(PROJECT_FILE.name), "project_uploaded", "the project")
    enter_project_password(walk, "not the password")
    walk.text("The project password is wrong", "project_wrong_password")
    walk.text("The project file you uploaded is kept", "project_kept_file_hint")
    enter_project_password(walk, PROJECT_PASSWORD)
    entry_created(walk, home_assistant, PROJECT)


def test_the_options_show_the_imported_project(walk: Walk, home_assistant: HomeAssistant) -> None:
    open_integration_page(walk, home_assistant, TITLE)
    configure = walk.page.get_by_role("button", name="Configure")
    walk.see(configure.first, "configure_button", "the entry's Configure button")
    configure.first.click()
    walk.text("Imported project: Demo Home (ETS 6) (ETS6 6.1.5686.0)", "options_menu")
    walk.text("91 group addresses, 7 ETS 6 functions", "options_counts")
    walk.see(walk.dialog.get_by_text("Remove the project"), "options_remove", "the Remove choice")
