"""Lights against the demo home's simulated dimmer (1.1.2) and colour light (1.1.3).

Everything travels through the real secure tunnel to the VirtualGateway; the devices are
built from demo/installation.json as the demo starts them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_SUPPORTED_COLOR_MODES,
)
from homeassistant.components.light.const import ColorMode
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_NAME,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.knx_secure.const import SUBENTRY_LIGHT
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.devices import (
    DEVICE_KINDS,
    ColourLight,
    Dimmer,
    SimulatedDevice,
)
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.telegram import GroupValue

from ..helpers import wait_for
from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_gateway_entry,
    async_add_subentry,
    entity_id_for,
    state_of,
)

INSTALLATION = Path(__file__).resolve().parents[2] / "demo" / "installation.json"

LIVING_ROOM = {
    CONF_NAME: "Living room",
    "switch_address": "1/2/1",
    "switch_state_address": "1/2/2",
    "brightness_address": "1/2/3",
    "brightness_state_address": "1/2/4",
}
KITCHEN = {
    CONF_NAME: "Kitchen",
    "switch_address": "1/2/11",
    "switch_state_address": "1/2/12",
    "brightness_address": "1/2/13",
    "brightness_state_address": "1/2/14",
    "color_address": "1/2/15",
    "color_state_address": "1/2/16",
    "color_type": "232.600",
    "color_temperature_address": "1/2/17",
    "color_temperature_state_address": "1/2/18",
    "color_temperature_type": "7.600",
    # wider than the lamp's 2700..6500 K: the lamp clamps, the status tells
    "min_kelvin": 2000,
    "max_kelvin": 8000,
}


def demo_device(gateway: VirtualGateway, address: str) -> SimulatedDevice:
    """Build a device of the demo home from its entry in demo/installation.json."""
    entries = json.loads(INSTALLATION.read_text(encoding="utf-8"))["devices"]
    (spec,) = (entry for entry in entries if entry["address"] == address)
    device = DEVICE_KINDS[spec["kind"]](
        IndividualAddress.parse(address), gateway.keyring, gateway.bus, spec, status_delay=0.05
    )
    gateway.add_device(device)
    return device


def add_dimmer(gateway: VirtualGateway, address: str, spec: dict[str, str]) -> Dimmer:
    """Attach one more dimmer (reporting at once) to the gateway."""
    device = DEVICE_KINDS["dimmer"](
        IndividualAddress.parse(address), gateway.keyring, gateway.bus, spec, status_delay=0
    )
    assert isinstance(device, Dimmer)
    gateway.add_device(device)
    return device


class Echo(SimulatedDevice):
    """An actuator that takes any value on its write address and reports it on its status
    address (RGBW and xyY lamps have no simulated kind of their own)."""

    kind = "echo"

    def __init__(self, gateway: VirtualGateway, address: str, write: str, status: str) -> None:
        super().__init__(IndividualAddress.parse(address), gateway.keyring, gateway.bus)
        self.write_ga, self.status_ga = GroupAddress.parse(write), GroupAddress.parse(status)
        self.value: GroupValue | None = None
        self.watch((self.write_ga, self.status_ga))
        gateway.add_device(self)

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        if address == self.write_ga:
            self.value = value
            self.send_write(self.status_ga, value)

    def on_read(self, address: GroupAddress) -> GroupValue | None:
        return self.value if address == self.status_ga else None


@dataclass
class Home:
    entry: ConfigEntry
    gateway: VirtualGateway
    dimmer: Dimmer
    colour: ColourLight


@pytest.fixture
async def home(hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile) -> Home:
    """The demo gateway with the living room dimmer and the kitchen colour light."""
    dimmer = demo_device(demo_gateway, "1.1.2")
    colour = demo_device(demo_gateway, "1.1.3")
    assert isinstance(dimmer, Dimmer)
    assert isinstance(colour, ColourLight)
    dimmer.spec = replace(dimmer.spec, dim_time=0)  # the demo's dimming: no waiting in tests
    entry = await async_add_gateway_entry(
        hass,
        demo_gateway,
        upload_file,
        keyring_source=DEMO_KEYRING_BYTES,
        password=DEMO_KEYRING_PASSWORD,
    )
    return Home(entry, demo_gateway, dimmer, colour)


async def add_light(hass: HomeAssistant, entry: ConfigEntry, data: dict[str, Any]) -> str:
    """Add a light subentry; wait until its entity is there and return its entity id."""
    subentry = await async_add_subentry(hass, entry, SUBENTRY_LIGHT, data)
    entity_id = entity_id_for(hass, entry, subentry, "light")
    await wait_for(lambda: state_of(hass, entity_id) not in (None, STATE_UNAVAILABLE))
    return entity_id


async def turn_on(hass: HomeAssistant, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(
        "light", SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


async def turn_off(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "light", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def attribute(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.attributes.get(name)


def shows(hass: HomeAssistant, entity_id: str, state: str, **attributes: Any) -> bool:
    """Whether the entity is in state with these attributes."""
    current = hass.states.get(entity_id)
    if current is None or current.state != state:
        return False
    return all(current.attributes.get(name) == value for name, value in attributes.items())


# --- the dimmer ----------------------------------------------------------------------------


async def test_dimmer_switches_dims_and_restores_its_brightness(
    hass: HomeAssistant, home: Home
) -> None:
    light = await add_light(hass, home.entry, LIVING_ROOM)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.BRIGHTNESS]

    await turn_on(hass, light)
    assert (home.dimmer.is_on, home.dimmer.brightness) == (True, 255)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=255))

    await turn_on(hass, light, brightness=77)
    assert home.dimmer.brightness == 77
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=77))

    await turn_off(hass, light)
    assert home.dimmer.is_on is False
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)

    await turn_on(hass, light)
    assert home.dimmer.brightness == 77  # the dimmer brings back its last brightness
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=77))
    assert_gateway_dropped_nothing(home.gateway)


async def test_brightness_reads_back_exactly_and_never_drifts(
    hass: HomeAssistant, home: Home
) -> None:
    """HA's 0..255 is DPT 5.001's octet: what is written is what the status says, also
    after a reconnect reads it again."""
    light = await add_light(hass, home.entry, LIVING_ROOM)
    for brightness in (1, 2, 3, 127, 128, 129, 254, 255, 3):
        await turn_on(hass, light, brightness=brightness)
        assert home.dimmer.brightness == brightness
        await wait_for(lambda b=brightness: shows(hass, light, STATE_ON, brightness=b))
    for _ in range(2):
        await home.gateway.disconnect_all()
        await wait_for(lambda: state_of(hass, light) == STATE_UNAVAILABLE)
        await wait_for(lambda: state_of(hass, light) == STATE_ON)
        assert attribute(hass, light, ATTR_BRIGHTNESS) == 3


async def test_status_from_the_bus(hass: HomeAssistant, home: Home) -> None:
    """Operated at the dimmer itself: Home Assistant follows its status addresses."""
    light = await add_light(hass, home.entry, LIVING_ROOM)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    home.dimmer.operate_brightness(40)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=40))
    home.dimmer.operate(False)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    home.dimmer.operate(True)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=40))


async def test_state_is_read_at_start_and_after_a_reconnect(
    hass: HomeAssistant, home: Home
) -> None:
    home.dimmer.operate_brightness(60)  # before Home Assistant listens
    light = await add_light(hass, home.entry, LIVING_ROOM)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=60))

    # The dimmer changes while its report is lost: only the read after reconnecting tells.
    home.dimmer.brightness = home.dimmer.last_brightness = 99
    await home.gateway.disconnect_all()
    await wait_for(lambda: state_of(hass, light) == STATE_UNAVAILABLE)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=99))


async def test_state_restored_until_the_bus_answers(hass: HomeAssistant, home: Home) -> None:
    silent = {CONF_NAME: "Silent", "switch_address": "1/6/1", "brightness_address": "1/6/2"}
    light = await add_light(hass, home.entry, silent)
    await hass.config_entries.async_unload(home.entry.entry_id)
    mock_restore_cache(hass, [State(light, STATE_ON, {ATTR_BRIGHTNESS: 99})])
    assert await hass.config_entries.async_setup(home.entry.entry_id)
    await hass.async_block_till_done()
    assert shows(hass, light, STATE_ON, brightness=99)


async def test_a_plain_light_of_main_group_2_works_plain(hass: HomeAssistant, home: Home) -> None:
    """Addresses without a key travel plain, and the device accepts them."""
    spec = {
        "switch": "2/2/1",
        "switch_status": "2/2/2",
        "brightness": "2/2/3",
        "brightness_status": "2/2/4",
    }
    dimmer = add_dimmer(home.gateway, "1.1.30", spec)
    data = {
        CONF_NAME: "Hall",
        "switch_address": "2/2/1",
        "switch_state_address": "2/2/2",
        "brightness_address": "2/2/3",
        "brightness_state_address": "2/2/4",
    }
    result = await _form(hass, home.entry, data)
    assert result["step_id"] == "confirm_plain_group_address"
    assert result["description_placeholders"]["plain_addresses"] == ("2/2/1, 2/2/2, 2/2/3, 2/2/4")
    light = await add_light(hass, home.entry, data)
    await turn_on(hass, light, brightness=200)
    assert dimmer.brightness == 200
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=200))
    assert_gateway_dropped_nothing(home.gateway)


# --- colour ----------------------------------------------------------------------------------


async def test_colour_light_sets_colour_and_clamped_temperature(
    hass: HomeAssistant, home: Home
) -> None:
    light = await add_light(hass, home.entry, KITCHEN)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    assert sorted(attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES)) == [
        ColorMode.COLOR_TEMP,
        ColorMode.RGB,
    ]

    await turn_on(hass, light, rgb_color=(255, 64, 0), brightness=128)
    assert home.colour.rgb == {"red": 255, "green": 64, "blue": 0}
    assert (home.colour.is_on, home.colour.brightness) == (True, 128)
    await wait_for(
        lambda: shows(
            hass, light, STATE_ON, brightness=128, rgb_color=(255, 64, 0), color_mode="rgb"
        )
    )

    await turn_on(hass, light, color_temp_kelvin=3000)
    assert home.colour.kelvin == 3000
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=3000))
    assert attribute(hass, light, "color_mode") == ColorMode.COLOR_TEMP

    await turn_on(hass, light, color_temp_kelvin=2000)  # the lamp goes down to 2700 K only
    assert home.colour.kelvin == 2700
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=2700))

    await turn_off(hass, light)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    await turn_on(hass, light, color_temp_kelvin=6000)  # off: temperature, then switch on
    assert (home.colour.is_on, home.colour.kelvin) == (True, 6000)
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=6000, brightness=128))
    assert_gateway_dropped_nothing(home.gateway)


async def test_colour_light_follows_the_lamp(hass: HomeAssistant, home: Home) -> None:
    light = await add_light(hass, home.entry, KITCHEN)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    home.colour.set_rgb({"red": 0, "green": 0, "blue": 255})
    home.colour.operate(True)
    await wait_for(lambda: shows(hass, light, STATE_ON, rgb_color=(0, 0, 255), color_mode="rgb"))
    home.colour.set_kelvin(4000)
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=4000))

    # Changed while its reports are lost: the reads after reconnecting tell.
    home.colour.rgb = {"red": 10, "green": 20, "blue": 255}
    await home.gateway.disconnect_all()
    await wait_for(lambda: state_of(hass, light) == STATE_UNAVAILABLE)
    await wait_for(lambda: shows(hass, light, STATE_ON, rgb_color=(10, 20, 255), color_mode="rgb"))


async def test_relative_colour_temperature(hass: HomeAssistant, home: Home) -> None:
    """DPT 5.001 colour temperature: percent of min..max Kelvin, written and read back."""
    echo = Echo(home.gateway, "1.1.31", "2/4/1", "2/4/2")
    data = {
        CONF_NAME: "Tunable white",
        "switch_address": "2/4/5",
        "color_temperature_address": "2/4/1",
        "color_temperature_state_address": "2/4/2",
        "color_temperature_type": "5.001",
        "min_kelvin": 2000,
        "max_kelvin": 6000,
    }
    light = await add_light(hass, home.entry, data)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.COLOR_TEMP]
    await turn_on(hass, light, color_temp_kelvin=4000)
    assert echo.value == bytes((128,))  # halfway: 50 %
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=4008))
    await turn_on(hass, light, color_temp_kelvin=4008)  # what it shows: the same step
    assert echo.value == bytes((128,))
    await turn_on(hass, light, color_temp_kelvin=6000)
    assert echo.value == bytes((255,))
    await wait_for(lambda: shows(hass, light, STATE_ON, color_temp_kelvin=6000))


async def test_rgbw_colour_carries_the_brightness(hass: HomeAssistant, home: Home) -> None:
    """Without a brightness address the brightness is in the colour (its largest part)."""
    echo = Echo(home.gateway, "1.1.32", "1/6/11", "1/6/12")
    data = {
        CONF_NAME: "Strip",
        "switch_address": "1/6/13",
        "color_address": "1/6/11",
        "color_state_address": "1/6/12",
        "color_type": "251.600",
    }
    light = await add_light(hass, home.entry, data)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.RGBW]
    await turn_on(hass, light, rgbw_color=(255, 0, 128, 64), brightness=128)
    assert echo.value == bytes((128, 0, 64, 32, 0x00, 0x0F))
    await wait_for(
        lambda: shows(hass, light, STATE_ON, rgbw_color=(255, 0, 128, 64), brightness=128)
    )
    await turn_on(hass, light, brightness=255)  # the same colour, brighter
    assert echo.value == bytes((255, 0, 128, 64, 0x00, 0x0F))
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=255))
    assert_gateway_dropped_nothing(home.gateway)


async def test_xyy_colour(hass: HomeAssistant, home: Home) -> None:
    echo = Echo(home.gateway, "1.1.33", "2/4/11", "2/4/12")
    data = {
        CONF_NAME: "Spot",
        "switch_address": "2/4/13",
        "color_address": "2/4/11",
        "color_state_address": "2/4/12",
        "color_type": "242.600",
    }
    light = await add_light(hass, home.entry, data)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.XY]
    await turn_on(hass, light, xy_color=(0.3, 0.6), brightness=200)
    assert echo.value is not None
    # x = 0.3 is 19660.5 / 65535: the bus carries 19660, read back as 0.29999
    await wait_for(lambda: shows(hass, light, STATE_ON, xy_color=(0.29999, 0.6), brightness=200))
    await turn_on(hass, light, brightness=20)  # only the brightness of the xyY value
    await wait_for(lambda: shows(hass, light, STATE_ON, xy_color=(0.29999, 0.6), brightness=20))


async def test_colour_channels_of_their_own(hass: HomeAssistant, home: Home) -> None:
    """Red, green and blue each on a dimmer channel (switch and status), no main switch."""
    channels: list[Dimmer] = []
    data: dict[str, Any] = {CONF_NAME: "Cove"}
    for index, colour in enumerate(("red", "green", "blue")):
        base = 4 * index
        spec = {
            "switch": f"2/3/{base + 1}",
            "switch_status": f"2/3/{base + 2}",
            "brightness": f"2/3/{base + 3}",
            "brightness_status": f"2/3/{base + 4}",
        }
        channels.append(add_dimmer(home.gateway, f"1.1.{40 + index}", spec))
        data |= {
            f"{colour}_switch_address": spec["switch"],
            f"{colour}_switch_state_address": spec["switch_status"],
            f"{colour}_brightness_address": spec["brightness"],
            f"{colour}_brightness_state_address": spec["brightness_status"],
        }
    light = await add_light(hass, home.entry, data)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.RGB]

    await turn_on(hass, light, rgb_color=(255, 128, 0))
    assert [c.brightness for c in channels] == [255, 128, 0]
    await wait_for(lambda: shows(hass, light, STATE_ON, rgb_color=(255, 128, 0), brightness=255))

    await turn_on(hass, light, brightness=128)
    assert [c.brightness for c in channels] == [128, 64, 0]
    await wait_for(lambda: shows(hass, light, STATE_ON, rgb_color=(255, 128, 0), brightness=128))

    await turn_off(hass, light)
    assert not any(c.is_on for c in channels)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)

    await turn_on(hass, light)  # the last colour at the last brightness
    assert [c.brightness for c in channels] == [128, 64, 0]
    await wait_for(lambda: shows(hass, light, STATE_ON, rgb_color=(255, 128, 0)))


async def test_channels_without_switches_dim_to_zero_and_come_back(
    hass: HomeAssistant, home: Home
) -> None:
    """No switch at all: off is brightness 0 on every channel; on brings the levels back."""
    channels = [
        add_dimmer(
            home.gateway,
            f"1.1.{50 + index}",
            {
                "switch": f"2/3/{101 + 4 * index}",
                "switch_status": f"2/3/{102 + 4 * index}",
                "brightness": f"2/3/{103 + 4 * index}",
                "brightness_status": f"2/3/{104 + 4 * index}",
            },
        )
        for index in range(4)
    ]
    data: dict[str, Any] = {CONF_NAME: "Shelf"}
    for index, colour in enumerate(("red", "green", "blue", "white")):
        data[f"{colour}_brightness_address"] = f"2/3/{103 + 4 * index}"
        data[f"{colour}_brightness_state_address"] = f"2/3/{104 + 4 * index}"
    light = await add_light(hass, home.entry, data)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.RGBW]

    await turn_on(hass, light, rgbw_color=(0, 100, 200, 50))
    assert [c.brightness for c in channels] == [0, 100, 200, 50]
    await wait_for(lambda: shows(hass, light, STATE_ON, rgbw_color=(0, 128, 255, 64)))
    assert attribute(hass, light, ATTR_BRIGHTNESS) == 200

    await turn_off(hass, light)
    assert [c.brightness for c in channels] == [0, 0, 0, 0]
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    await turn_on(hass, light)
    assert [c.brightness for c in channels] == [0, 100, 200, 50]
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=200))


async def test_without_switch_status_the_brightness_tells_on_and_off(
    hass: HomeAssistant, home: Home
) -> None:
    data = {k: v for k, v in LIVING_ROOM.items() if k != "switch_state_address"}
    light = await add_light(hass, home.entry, data)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    home.dimmer.operate_brightness(90)
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=90))
    home.dimmer.operate(False)
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    await turn_on(hass, light)
    assert home.dimmer.brightness == 90
    await wait_for(lambda: shows(hass, light, STATE_ON, brightness=90))


@pytest.mark.parametrize(
    ("data", "modes"),
    [
        ({"switch_address": "1/6/1"}, [ColorMode.ONOFF]),
        ({"switch_address": "1/6/1", "brightness_address": "1/6/2"}, [ColorMode.BRIGHTNESS]),
        (
            {"switch_address": "1/6/1", "color_address": "1/6/3", "color_type": "242.600"},
            [ColorMode.XY],
        ),
        (
            {
                "switch_address": "1/6/1",
                "color_address": "1/6/3",
                "color_type": "251.600",
                "color_temperature_address": "1/6/4",
            },
            [ColorMode.COLOR_TEMP, ColorMode.RGBW],
        ),
        (
            {
                f"{c}_brightness_address": f"1/6/{i}"
                for i, c in enumerate(["red", "green", "blue", "white"], 5)
            },
            [ColorMode.RGBW],
        ),
    ],
)
async def test_colour_modes_follow_the_addresses(
    hass: HomeAssistant, home: Home, data: dict[str, Any], modes: list[ColorMode]
) -> None:
    light = await add_light(hass, home.entry, {CONF_NAME: "Modes", **data})
    assert sorted(attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES)) == modes
    assert attribute(hass, light, "color_mode") is None  # unknown until the bus tells


# --- the form --------------------------------------------------------------------------------


async def _form(hass: HomeAssistant, entry: ConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_LIGHT), context={"source": SOURCE_USER}
    )
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"brightness_address": "1/2/3"}, {"switch_address": "switch_required"}),
        ({"switch_address": "1/2/x"}, {"switch_address": "invalid_group_address"}),
        (
            {"switch_address": "1/2/1", "brightness_state_address": "1/2/4"},
            {"brightness_state_address": "state_without_address"},
        ),
        (
            {"red_brightness_address": "1/6/1", "blue_brightness_address": "1/6/3"},
            {"green_brightness_address": "channels_incomplete"},
        ),
        (
            {
                "red_brightness_address": "1/6/1",
                "green_brightness_address": "1/6/2",
                "blue_brightness_address": "1/6/3",
                "white_switch_address": "1/6/4",
                "color_address": "1/6/5",
            },
            {
                "white_brightness_address": "channels_incomplete",
                "color_address": "color_and_channels",
            },
        ),
        (
            {"switch_address": "1/2/1", "min_kelvin": 6000, "max_kelvin": 3000},
            {"max_kelvin": "kelvin_range"},
        ),
        (  # the address errors and the light's own, side by side
            {"switch_address": "1/2/x", "min_kelvin": 6000, "max_kelvin": 3000},
            {"switch_address": "invalid_group_address", "max_kelvin": "kelvin_range"},
        ),
    ],
)
async def test_form_errors(
    hass: HomeAssistant, home: Home, data: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _form(hass, home.entry, {CONF_NAME: "Bad", **data})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_reconfigure_keeps_the_entity_id(hass: HomeAssistant, home: Home) -> None:
    light = await add_light(hass, home.entry, {CONF_NAME: "Living room", "switch_address": "1/2/1"})
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.ONOFF]
    entity = er.async_get(hass).async_get(light)
    assert entity is not None
    assert entity.config_subentry_id is not None
    result = await hass.config_entries.subentries.async_init(
        (home.entry.entry_id, SUBENTRY_LIGHT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": entity.config_subentry_id},
    )
    assert result["step_id"] == SOURCE_RECONFIGURE
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], LIVING_ROOM)
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert entity_id_for(hass, home.entry, entity.config_subentry_id, "light") == light
    await wait_for(lambda: state_of(hass, light) == STATE_OFF)
    assert attribute(hass, light, ATTR_SUPPORTED_COLOR_MODES) == [ColorMode.BRIGHTNESS]
    await turn_on(hass, light, brightness=10)
    assert home.dimmer.brightness == 10
