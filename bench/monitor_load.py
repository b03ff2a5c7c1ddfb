"""The group monitor under load: a real Home Assistant, the panel in headless Chromium, and
the virtual gateway carrying ``--rate`` telegrams per second for ``--seconds``.

    .venv/bin/python -m bench.monitor_load [--rate 100] [--seconds 60]

Prints one JSON object: telegrams sent, rows the panel shows, the browser's frames (the longest,
how many over 100 ms) and long tasks (PerformanceObserver, from the start of the load: how many,
how many over 100 ms, the longest; Chrome draws no frame during a task, so a task over 100 ms
is a frame over 100 ms), Home Assistant's event loop stall, measured as the longest websocket
ping round trip (a ping every 20 ms; the loop answers it, so a stall shows as a late pong), and
the machine's load average at the end (the numbers depend on it). Absolute numbers: there is
no second implementation to compare with here.
The set-up reuses the browser tests' steps (tests/browser), so it follows the UI they prove.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.sync_api import Page, sync_playwright

from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.client import SecureTunnelClient, TunnelChoice
from custom_components.knx_secure.knx.keyring import load_keyring
from tests.browser import conftest as ui
from tests.browser.test_ui import Walk, add_integration, add_switch, save_switch

#: Plain in the test keyring, no actuator, no entity: the load is the monitor's alone (an
#: entity on it would add Home Assistant's own state machine and frontend at 100 changes/s).
FLOOD_ADDRESS = GroupAddress.parse("1/1/6")
#: The switch the set-up adds (the entry needs an entity to have names in the monitor).
SWITCH_ADDRESS = "1/1/5"

#: A frame is the gap between two animation frames; a long task is Chrome's (over 50 ms, from
#: the performance timeline). Both are counted against the 100 ms the acceptance allows.
OBSERVE_FRAMES = """
window.__frames = {longest: 0, over100: 0, longtasks: 0, longtasksOver100: 0, longestTask: 0};
let last = performance.now();
const tick = (now) => {
  const gap = now - last; last = now;
  if (gap > window.__frames.longest) window.__frames.longest = gap;
  if (gap > 100) window.__frames.over100 += 1;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__frames.longtasks += 1;
    if (entry.duration > 100) window.__frames.longtasksOver100 += 1;
    window.__frames.longestTask = Math.max(window.__frames.longestTask, entry.duration);
  }
}).observe({type: "longtask"});
"""


async def flood(port: int, rate: float, seconds: float) -> int:
    """Write to FLOOD_ADDRESS at `rate` per second through another tunnel; return the count."""
    keyring = load_keyring(ui.KEYRING_PATH, ui.KEYRING_PASSWORD)
    client = SecureTunnelClient(
        keyring, "127.0.0.1", port, tunnel=TunnelChoice(host=IndividualAddress.parse("1.1.0"))
    )
    await client.connect()
    sent = 0
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            await client.write(FLOOD_ADDRESS, sent % 2)
            sent += 1
            await asyncio.sleep(max(0.0, sent / rate - (time.monotonic() - start)))
            del elapsed
    finally:
        await client.close()
    return sent


async def ping_loop(url: str, token: str, stop: asyncio.Event) -> list[float]:
    """Round trips (ms) of websocket pings every 20 ms until stop is set."""
    rtts: list[float] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http", "ws") + "/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive_json()
        message_id = 0
        while not stop.is_set():
            message_id += 1
            sent = time.perf_counter()
            await ws.send_json({"id": message_id, "type": "ping"})
            while True:
                answer = await ws.receive_json()
                if answer.get("id") == message_id:
                    break
            rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.02)
    return rtts


async def load(url: str, token: str, port: int, rate: float, seconds: float) -> dict[str, Any]:
    stop = asyncio.Event()
    pings = asyncio.create_task(ping_loop(url, token, stop))
    await asyncio.sleep(1)  # the ping loop's baseline
    sent = await flood(port, rate, seconds)
    stop.set()
    rtts = await pings
    rtts.sort()
    return {
        "telegrams_sent": sent,
        "ha_ping_rtt_ms_p50": round(rtts[len(rtts) // 2], 2),
        "ha_ping_rtt_ms_max": round(rtts[-1], 2),
        "ha_pings": len(rtts),
    }


def open_panel(page: Page, instance: ui.HomeAssistant, port: int, folder: Path) -> None:
    """Log in, add the gateway and a switch on the flooded address, open the panel."""
    page.goto(instance.url + "/")
    page.get_by_label("Username").fill(ui.USERNAME)
    page.get_by_role("textbox", name="Password").fill(ui.USER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda u: "/auth/" not in u and "/lovelace" in u)
    # The frontend stores its tokens once the dashboard runs: a page load before that logs out.
    page.get_by_text("Overview").first.wait_for()
    walk = Walk(page, ui.Screenshots(folder))
    add_integration(walk, instance, ui.Gateway(port, folder / "gateway.log"))
    add_switch(walk, instance, "Garden", SWITCH_ADDRESS)
    save_switch(walk, instance, "Garden")
    page.goto(instance.url + "/knx-secure")
    page.get_by_text("KNX group monitor").wait_for()


def measure(
    page: Page, instance: ui.HomeAssistant, port: int, rate: float, seconds: float
) -> dict[str, Any]:
    """Run the load while the panel is open; the page's frames and Home Assistant's pings."""
    page.evaluate(OBSERVE_FRAMES)
    result: dict[str, Any] = {}

    def run_load() -> None:
        with ui.real_sockets():
            result.update(asyncio.run(load(instance.url, instance.token, port, rate, seconds)))

    thread = threading.Thread(target=run_load)
    thread.start()
    while thread.is_alive():
        page.wait_for_timeout(200)  # the page keeps rendering while the load runs
    thread.join()
    page.wait_for_timeout(1000)
    frames = page.evaluate("window.__frames")
    result.update(
        rate=rate,
        seconds=seconds,
        load_average=[round(value, 2) for value in os.getloadavg()],
        panel_longest_frame_ms=round(frames["longest"], 1),
        panel_frames_over_100ms=frames["over100"],
        panel_long_tasks=frames["longtasks"],
        panel_long_tasks_over_100ms=frames["longtasksOver100"],
        panel_longest_task_ms=round(frames["longestTask"], 1),
        panel_rows_shown=page.locator("knx-secure-panel .row").count(),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.monitor_load")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="monitor-load-"))
    gateway_process, port = ui.start_gateway(folder / "gateway.log")
    ha_port = ui.free_port()
    config_dir = folder / "home-assistant"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(
        ui.CONFIGURATION.format(port=ha_port, extra="").replace("debug", "warning")
    )
    (config_dir / "automations.yaml").write_text("[]\n")
    (config_dir / "custom_components").symlink_to(ui.REPO / "custom_components")
    instance = ui.HomeAssistant(f"http://127.0.0.1:{ha_port}", config_dir, config_dir / "hass.log")
    try:
        ui.start_home_assistant(instance)
        ui.onboard(instance)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=str(ui.CHROMIUM), args=["--no-sandbox"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(ui.UI_TIMEOUT_MS)
            page = context.new_page()
            try:
                open_panel(page, instance, port, folder)
            except Exception:
                page.screenshot(path=str(folder / "failed.png"))
                raise
            result = measure(page, instance, port, args.rate, args.seconds)
            browser.close()
        print(json.dumps(result))
    finally:
        if instance.process is not None:
            ui.stop_process(instance.process, "Home Assistant", instance.log)
        ui.stop_process(gateway_process, "the virtual gateway", folder / "gateway.log")


if __name__ == "__main__":
    main()
