"""Fixtures of the browser tests: what a user sees, in a real browser.

A real Home Assistant process (this integration linked into a temporary configuration folder,
HTTP on a free port of 127.0.0.1) and the virtual KNX IP Secure gateway (a process of its own,
actuator 1/1/1 -> status 1/1/2) run for the module; Playwright drives Debian's headless
Chromium (`chromium-headless-shell`, installed by scripts/browser-deps; Playwright's own browser
download is never used). Onboarding goes through Home Assistant's onboarding HTTP API; the
browser logs in on the real login page. Everything is stopped at the end, and the ports are
checked to be closed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
except ImportError as err:  # a missing extra must fail the run, never skip it
    raise pytest.UsageError(
        "tests/browser needs Playwright: install the extra with "
        "'SETUP_EXTRAS=test,browser scripts/setup' (scripts/test does it) and the browser "
        "with 'scripts/browser-deps'"
    ) from err

REPO = Path(__file__).resolve().parents[2]
KEYRING_PATH = REPO / "tests" / "fixtures" / "Secure Test.knxkeys"
KEYRING_PASSWORD = "passwordprogetto"
CHROMIUM = Path(os.environ.get("KNX_BROWSER_CHROMIUM", "/usr/bin/chromium-headless-shell"))
USERNAME = "newcomer"
USER_PASSWORD = "newcomer-password-1"  # a throwaway account of a throwaway instance

# Generous: a loaded 2-core machine starts Home Assistant in 15-60 s. Every wait is on a
# condition, so a fast machine does not pay these.
START_TIMEOUT = 240.0
STOP_TIMEOUT = 60.0
UI_TIMEOUT_MS = 60_000


@contextlib.contextmanager
def real_sockets() -> Iterator[None]:
    """Let this process open sockets to 127.0.0.1 for a moment.

    pytest-homeassistant-custom-component blocks sockets before every test (pytest-socket);
    the module-scoped fixtures here start before any test's `socket_enabled` could apply.
    Afterwards the block is put back as that plugin sets it.
    """
    try:
        import pytest_socket  # noqa: PLC0415 - present only with the Home Assistant test plugin
    except ImportError:
        yield
        return
    pytest_socket.enable_socket()
    try:
        yield
    finally:
        pytest_socket.socket_allow_hosts(["127.0.0.1"])
        pytest_socket.disable_socket(allow_unix_socket=True)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with real_sockets(), socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    with real_sockets(), socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a condition (a process and its port: nothing to subscribe to) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def stop_process(process: subprocess.Popen[bytes], name: str, log: Path) -> None:
    """SIGTERM, then wait for a clean exit (SIGKILL and a failure if it hangs)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; log {log}")


# --- Home Assistant's in-process test checks do not apply here ----------------------------


@pytest.fixture
def verify_cleanup() -> None:
    """Replaces the Home Assistant test plugin's check of the test's event loop.

    Home Assistant runs in a process of its own here (stopped and checked by its fixture);
    Playwright's sync API keeps its own event loop running in this thread for the module, so
    the plugin's check, which runs the test's event loop, cannot run.
    """


@pytest.fixture
def enable_event_loop_debug() -> None:
    """Replaces the plugin's fixture: no test event loop here (see verify_cleanup)."""


# --- the virtual gateway ---------------------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    port: int
    log: Path


def start_gateway(log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the gateway command on a free port; return it once it printed its ready line."""
    process, ready = start_installation(log, "--bind", "127.0.0.1", "--port", "0")
    return process, int(str(ready["listening"]).rsplit(":", 1)[1])


def start_installation(
    log: Path,
    *arguments: str,
    keyring: tuple[Path, str] = (KEYRING_PATH, KEYRING_PASSWORD),
    switches: tuple[str, ...] = ("1/1/1:1/1/2",),
) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    """Start the gateway command with this keyring (path, password), these switch actuators
    (default: 1/1/1 -> 1/1/2) and these arguments; return it and its ready line once it
    printed it."""
    path, password = keyring
    command = [
        *(sys.executable, "-m", "custom_components.knx_secure.knx", "gateway"),
        *("--keyring", str(path), *arguments),
        *(word for switch in switches for word in ("--switch", switch)),
    ]
    environment = {**os.environ, "KNX_KEYRING_PASSWORD": password}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=stderr
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else b""
    if not line:
        stop_process(process, "the virtual gateway", log)
        pytest.fail(f"the virtual gateway did not start:\n{log_tail(log)}")
    ready: dict[str, object] = json.loads(line)
    return process, ready


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The virtual KNX IP Secure gateway with the actuator 1/1/1 -> 1/1/2."""
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    process, port = start_gateway(log)
    try:
        yield Gateway(port, log)
    finally:
        stop_process(process, "the virtual gateway", log)
    assert not is_listening(port), f"the gateway's port {port} is still open after its stop"


# --- Home Assistant --------------------------------------------------------------------------

CONFIGURATION = """\
# Written by tests/browser: the UI and nothing else.
frontend:
config:
automation: !include automations.yaml

logger:
  default: warning
  logs:
    custom_components.knx_secure: debug

http:
  server_host: 127.0.0.1
  server_port: {port}
{extra}"""


@dataclass
class HomeAssistant:
    """A running Home Assistant and its REST API (as the onboarded user)."""

    url: str
    config_dir: Path
    log: Path
    token: str = field(default="", repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with real_sockets(), urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def state(self, entity_id: str) -> str | None:
        try:
            return str(self.request("GET", f"/api/states/{entity_id}")["state"])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def entity_ids(self, domain: str) -> dict[str, str]:
        """Friendly name -> entity ID of the states of a domain."""
        return {
            state["attributes"].get("friendly_name", ""): state["entity_id"]
            for state in self.request("GET", "/api/states")
            if state["entity_id"].startswith(f"{domain}.")
        }

    def config_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.request(
            "GET", "/api/config/config_entries/entry?domain=knx_secure"
        )
        return entries

    def wait_for_state(self, entity_id: str, expected: str, timeout: float = 60.0) -> None:
        wait_until(
            lambda: self.state(entity_id) == expected,
            timeout,
            f"{entity_id} to become {expected} (last: {self.state(entity_id)})",
        )


def answers_http(url: str) -> bool:
    """Whether Home Assistant's HTTP server answers (any status: after onboarding the
    onboarding view is gone and answers 404)."""
    try:
        with real_sockets(), urllib.request.urlopen(url + "/api/onboarding", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:  # refused while starting
        return False


def onboard(home_assistant: HomeAssistant) -> None:
    """Create the user and finish onboarding through the onboarding HTTP API."""
    client_id = home_assistant.url + "/"
    created = home_assistant.request(
        "POST",
        "/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "New Comer",
            "username": USERNAME,
            "password": USER_PASSWORD,
            "language": "en",
        },
    )
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": created["auth_code"],
            "client_id": client_id,
        }
    ).encode()
    request = urllib.request.Request(home_assistant.url + "/auth/token", data=form)
    with real_sockets(), urllib.request.urlopen(request, timeout=30) as response:
        home_assistant.token = json.loads(response.read())["access_token"]
    home_assistant.request("POST", "/api/onboarding/core_config", {})
    home_assistant.request("POST", "/api/onboarding/analytics", {})
    home_assistant.request(
        "POST",
        "/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": client_id + "?auth_callback=1"},
    )


def start_home_assistant(instance: HomeAssistant) -> subprocess.Popen[bytes]:
    """Start Home Assistant on the instance's folder and port; return once it answers."""
    command = [
        *(sys.executable, "-m", "homeassistant", "--config", str(instance.config_dir)),
        "--skip-pip",
    ]
    # file_upload keeps uploads in one fixed folder of the temporary directory and deletes
    # it at start and stop: an instance of its own, so that Home Assistants of parallel
    # runs (other checkouts) do not delete each other's uploads.
    temporary = instance.config_dir / "tmp"
    temporary.mkdir(exist_ok=True)
    with instance.log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=instance.config_dir,
            env={**os.environ, "TMPDIR": str(temporary)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_until(
        lambda: process.poll() is not None or answers_http(instance.url),
        START_TIMEOUT,
        f"Home Assistant to answer on {instance.url}; log {instance.log}",
    )
    if process.poll() is not None:
        pytest.fail(f"Home Assistant exited with {process.returncode}:\n{log_tail(instance.log)}")
    instance.process = process
    return process


def restart_home_assistant(instance: HomeAssistant) -> None:
    """Stop Home Assistant (as at a shutdown: it writes its storage) and start it again."""
    assert instance.process is not None
    stop_process(instance.process, "Home Assistant", instance.log)
    start_home_assistant(instance)


@pytest.fixture(scope="module")
def installation(gateway: Gateway) -> object:
    """The virtual installation Home Assistant connects to (a module may override this):
    started before Home Assistant and stopped after it."""
    return gateway


@pytest.fixture(scope="module")
def extra_configuration() -> str:
    """YAML added to configuration.yaml (a module may override this, e.g. with helpers)."""
    return ""


@pytest.fixture(scope="module")
def home_assistant(
    tmp_path_factory: pytest.TempPathFactory, installation: object, extra_configuration: str
) -> Iterator[HomeAssistant]:
    """A real Home Assistant with this integration, onboarded, on a free port of 127.0.0.1."""
    config_dir = tmp_path_factory.mktemp("home-assistant")
    port = free_port()
    configuration = CONFIGURATION.format(port=port, extra=extra_configuration)
    (config_dir / "configuration.yaml").write_text(configuration)
    (config_dir / "automations.yaml").write_text("[]\n")  # the automation editor writes here
    (config_dir / "custom_components").symlink_to(REPO / "custom_components")
    instance = HomeAssistant(f"http://127.0.0.1:{port}", config_dir, config_dir / "hass.log")
    try:
        start_home_assistant(instance)
        onboard(instance)
        yield instance
    finally:
        if instance.process is not None:
            stop_process(instance.process, "Home Assistant", instance.log)
    assert not is_listening(port), f"Home Assistant's port {port} is still open after its stop"


# --- the browser -----------------------------------------------------------------------------


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one module, named for the step."""

    folder: Path
    count: int = 0

    def take(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}_{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    return Screenshots(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium; its absence fails the tests with what to run."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/browser-deps (Debian's chromium-headless-shell)"
            " or point KNX_BROWSER_CHROMIUM at a headless Chromium"
        )
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def page(
    browser: Browser, home_assistant: HomeAssistant, screenshots: Screenshots
) -> Iterator[Page]:
    """One tab, logged in as the onboarded user on Home Assistant's login page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(UI_TIMEOUT_MS)
    tab = context.new_page()
    tab.goto(home_assistant.url + "/")
    tab.get_by_label("Username").fill(USERNAME)
    tab.get_by_role("textbox", name="Password").fill(USER_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(lambda url: "/auth/" not in url and "/lovelace" in url)
    shot = screenshots.take(tab, "logged_in")
    expect(tab.get_by_text("Overview").first, f"after login, screenshot {shot}").to_be_visible()
    try:
        yield tab
    finally:
        context.close()
