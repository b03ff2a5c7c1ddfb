"""Exposes: Home Assistant values sent to the bus and answers to reads, through the real secure
tunnel and the virtual gateway of the demo home (docs/DEMO.md: the hall display 1.1.30 on the
Data Secure 1/6/201..1/6/204 and the plain 2/6/201)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.knx_secure import expose
from custom_components.knx_secure.const import (
    CONF_EXPOSE_ADDRESS,
    CONF_EXPOSE_ATTRIBUTE,
    CONF_EXPOSE_COOLDOWN,
    CONF_EXPOSE_ENTITY,
    CONF_EXPOSE_PERIOD,
    CONF_VALUE_TYPE,
    EXPOSE_CLOCK_PERIOD,
    SUBENTRY_EXPOSE,
)
from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import APCI, LData
from custom_components.knx_secure.knx.devices import SimulatedDevice
from custom_components.knx_secure.knx.dpt import DPTValue, get_dpt
from custom_components.knx_secure.knx.errors import FrameError
from custom_components.knx_secure.knx.telegram import GroupValue

from ..helpers import wait_for
from .conftest import (
    DEMO_KEYRING_BYTES,
    DEMO_KEYRING_PASSWORD,
    FIXTURES,
    UploadFile,
    assert_gateway_dropped_nothing,
    async_add_gateway_entry,
    async_add_subentry,
)

if TYPE_CHECKING:
    from custom_components.knx_secure.knx.gateway import VirtualGateway

DISPLAY = IndividualAddress.parse("1.1.30")
OUTDOOR = "1/6/201"
TIME, DATE, DATE_TIME = "1/6/202", "1/6/203", "1/6/204"
PRESENCE = "2/6/201"  # plain
INPUT_NUMBER = "input_number.outdoor"
INPUT_BOOLEAN = "input_boolean.presence"


class Display(SimulatedDevice):
    """A wall display that keeps every value written to it and every answer to its reads."""

    kind = "display"

    def __init__(self, gateway: VirtualGateway, addresses: list[str]) -> None:
        super().__init__(DISPLAY, gateway.keyring, gateway.bus)
        self.watch(GroupAddress.parse(address) for address in addresses)
        self.writes: dict[GroupAddress, list[GroupValue]] = {}
        self.responses: dict[GroupAddress, list[GroupValue]] = {}

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        self.writes.setdefault(address, []).append(value)

    def read(self, address: str) -> None:
        """Send a GroupValueRead (Data Secure when the address has a key)."""
        self._send(GroupAddress.parse(address), cemi.group_value_read())

    def deliver(self, frame: LData) -> None:
        """Writes as the base does; responses are kept (the base ignores them)."""
        if not isinstance(frame.dst, GroupAddress) or frame.dst not in self.watched:
            return
        plain = self._open(frame)
        if plain is None:
            return
        try:
            apdu = cemi.parse_group_apdu(plain.tpdu)
        except FrameError:
            return
        if apdu.apci is APCI.GROUP_VALUE_WRITE and apdu.value is not None:
            self.on_write(frame.dst, apdu.value)
        elif apdu.apci is APCI.GROUP_VALUE_RESPONSE and apdu.value is not None:
            self.responses.setdefault(frame.dst, []).append(apdu.value)

    def written(self, address: str, dpt_id: str) -> list[DPTValue]:
        return [get_dpt(dpt_id).decode(v) for v in self.writes.get(GroupAddress.parse(address), [])]

    def answers(self, address: str, dpt_id: str) -> list[DPTValue]:
        responses = self.responses.get(GroupAddress.parse(address), [])
        return [get_dpt(dpt_id).decode(v) for v in responses]


def _data(address: str, dpt_id: str, entity: str | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_NAME: f"Expose {address}",
        CONF_EXPOSE_ADDRESS: address,
        CONF_VALUE_TYPE: dpt_id,
        CONF_EXPOSE_COOLDOWN: 0,
        CONF_EXPOSE_PERIOD: 0,
        **extra,
    }
    if entity is not None:
        data[CONF_EXPOSE_ENTITY] = entity
    return data


async def _helpers(hass: HomeAssistant) -> None:
    """An input number and an input boolean, as a user makes them."""
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"outdoor": {"min": -30, "max": 1000, "step": 0.5, "initial": 21.5}}},
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"presence": {"initial": False}}}
    )


async def _set_number(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": INPUT_NUMBER, "value": value}, blocking=True
    )


async def _entry(
    hass: HomeAssistant, gateway: VirtualGateway, upload: UploadFile, addresses: list[str]
) -> tuple[ConfigEntry, Display]:
    display = Display(gateway, addresses)
    gateway.add_device(display)
    await _helpers(hass)
    entry = await async_add_gateway_entry(
        hass, gateway, upload, keyring_source=DEMO_KEYRING_BYTES, password=DEMO_KEYRING_PASSWORD
    )
    return entry, display


async def test_a_change_of_the_entity_reaches_the_display(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """The input number's new value is written Data Secure to 1/6/201; equal values are not
    sent again; the display's read gets the current value."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR])
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, _data(OUTDOOR, "9.001", INPUT_NUMBER))

    await _set_number(hass, 12.5)
    await wait_for(lambda: display.written(OUTDOOR, "9.001") == [12.5])
    await _set_number(hass, 12.5)  # no change: nothing sent
    await _set_number(hass, -3.0)
    await wait_for(lambda: len(display.written(OUTDOOR, "9.001")) >= 2)
    assert display.written(OUTDOOR, "9.001") == [12.5, -3.0]

    display.read(OUTDOOR)
    await wait_for(lambda: display.answers(OUTDOOR, "9.001") == [-3.0])
    # Secure all the way: the display refuses plain telegrams on 1/6/201 (a drop).
    assert_gateway_dropped_nothing(demo_gateway)


async def test_an_attribute_and_a_plain_address(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """An input boolean on the plain 2/6/201 (DPT 1), and the input number's "max" attribute
    answered on 1/6/201."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR, PRESENCE])
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, _data(PRESENCE, "1.001", INPUT_BOOLEAN))
    await async_add_subentry(
        hass,
        entry,
        SUBENTRY_EXPOSE,
        _data(OUTDOOR, "9.001", INPUT_NUMBER, **{CONF_EXPOSE_ATTRIBUTE: "max"}),
    )
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": INPUT_BOOLEAN}, blocking=True
    )
    await wait_for(lambda: display.written(PRESENCE, "1.001") == [True])
    display.read(PRESENCE)
    display.read(OUTDOOR)
    await wait_for(lambda: display.answers(PRESENCE, "1.001") == [True])
    await wait_for(lambda: len(display.answers(OUTDOOR, "9.001")) == 1)
    assert display.answers(OUTDOOR, "9.001") == [999.68]  # 1000 in DPT 9's precision
    assert_gateway_dropped_nothing(demo_gateway)


async def test_clock_exposes_send_at_start_and_after_a_reconnect(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Time, date and date-time without an entity: a time server. Sent when the entry starts
    and again when the tunnel comes back; a read gets the current moment."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [TIME, DATE, DATE_TIME])
    for address, dpt_id in ((TIME, "10.001"), (DATE, "11.001"), (DATE_TIME, "19.001")):
        await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, _data(address, dpt_id))
    today = dt_util.now().date()
    # (each subentry added reloads the entry: the clocks added earlier were sent again)
    await wait_for(lambda: len(display.written(DATE_TIME, "19.001")) == 1)
    assert display.written(DATE, "11.001")[-1] == {
        "year": today.year,
        "month": today.month,
        "day": today.day,
    }
    (sent,) = display.written(DATE_TIME, "19.001")
    assert isinstance(sent, dict)
    assert (sent["year"], sent["month"], sent["day"]) == (today.year, today.month, today.day)
    assert sent["source_reliable"] is True

    times = len(display.written(TIME, "10.001"))
    await demo_gateway.disconnect_all()
    await wait_for(lambda: len(display.written(TIME, "10.001")) == times + 1)

    display.read(TIME)
    await wait_for(lambda: len(display.answers(TIME, "10.001")) == 1)
    (answer,) = display.answers(TIME, "10.001")
    assert isinstance(answer, dict)
    assert answer["day"] == today.strftime("%A").lower()
    # The form gave the clocks the hourly resend.
    periods = {s.data[CONF_EXPOSE_PERIOD] for s in entry.subentries.values()}
    assert periods == {EXPOSE_CLOCK_PERIOD}
    assert_gateway_dropped_nothing(demo_gateway)


async def test_cooldown_sends_the_last_value(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Three changes within the cool-down: the first at once, then only the last."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR])
    data = _data(OUTDOOR, "9.001", INPUT_NUMBER, **{CONF_EXPOSE_COOLDOWN: 1})
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, data)
    await _set_number(hass, 1.0)
    await _set_number(hass, 2.0)
    await _set_number(hass, 3.0)
    await wait_for(lambda: len(display.written(OUTDOOR, "9.001")) >= 2)
    assert display.written(OUTDOOR, "9.001") == [1.0, 3.0]


async def test_periodic_resend(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A period sends the unchanged value again."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR])
    data = _data(OUTDOOR, "9.001", INPUT_NUMBER, **{CONF_EXPOSE_PERIOD: 1})
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, data)
    await wait_for(lambda: len(display.written(OUTDOOR, "9.001")) >= 2)
    assert set(display.written(OUTDOOR, "9.001")) == {21.5}


async def test_a_value_the_type_cannot_carry_is_logged(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1000 as a percentage (5.001: 0..100) is not sent; the next good value is."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR])
    await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, _data(OUTDOOR, "5.001", INPUT_NUMBER))
    with caplog.at_level(logging.WARNING):
        await _set_number(hass, 1000)
        await wait_for(lambda: "could not send to 1/6/201" in caplog.text)
    await _set_number(hass, 50)
    await wait_for(lambda: display.written(OUTDOOR, "5.001") == [50])


async def test_reconfigure_moves_the_expose(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """Reconfigure to the plain 2/6/201 as DPT 1 of the input boolean: reads there answered."""
    entry, display = await _entry(hass, demo_gateway, upload_file, [OUTDOOR, PRESENCE])
    subentry_id = await async_add_subentry(
        hass, entry, SUBENTRY_EXPOSE, _data(OUTDOOR, "9.001", INPUT_NUMBER)
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_EXPOSE),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["step_id"] == SOURCE_RECONFIGURE
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _data(PRESENCE, "1.001", INPUT_BOOLEAN)
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    display.read(PRESENCE)
    await wait_for(lambda: display.answers(PRESENCE, "1.001") == [False])


async def _form(hass: HomeAssistant, entry: ConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_EXPOSE), context={"source": SOURCE_USER}
    )
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (_data("1/6/201", "nonsense", INPUT_NUMBER), {CONF_VALUE_TYPE: "invalid_value_type"}),
        # a structured value other than the clock's
        (_data("1/6/201", "232.600", INPUT_NUMBER), {CONF_VALUE_TYPE: "invalid_value_type"}),
        (_data("1/6/201", "9.001"), {CONF_EXPOSE_ENTITY: "entity_required"}),
        (
            _data("1/6/202", "10.001", **{CONF_EXPOSE_ATTRIBUTE: "max"}),
            {CONF_EXPOSE_ATTRIBUTE: "attribute_without_entity"},
        ),
        (
            _data("1/6/999999", "9.001", INPUT_NUMBER),
            {CONF_EXPOSE_ADDRESS: "invalid_group_address"},
        ),
    ],
)
async def test_form_errors(
    hass: HomeAssistant,
    demo_gateway: VirtualGateway,
    upload_file: UploadFile,
    data: dict[str, Any],
    errors: dict[str, str],
) -> None:
    entry, _display = await _entry(hass, demo_gateway, upload_file, [])
    result = await _form(hass, entry, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_form_saves_the_type_id_and_trims(
    hass: HomeAssistant, demo_gateway: VirtualGateway, upload_file: UploadFile
) -> None:
    """A type by name is saved as its id; an empty attribute is dropped."""
    entry, _display = await _entry(hass, demo_gateway, upload_file, [])
    data = _data(" 1/6/201 ", "temperature", INPUT_NUMBER, **{CONF_EXPOSE_ATTRIBUTE: " "})
    subentry_id = await async_add_subentry(hass, entry, SUBENTRY_EXPOSE, data)
    saved = entry.subentries[subentry_id].data
    assert saved[CONF_VALUE_TYPE] == "9.001"
    assert saved[CONF_EXPOSE_ADDRESS] == "1/6/201"
    assert CONF_EXPOSE_ATTRIBUTE not in saved


async def test_the_confirm_step_warns_when_the_tunnel_may_not_send(
    hass: HomeAssistant, socket_enabled: None, mock_search: Any, upload_file: UploadFile
) -> None:
    """SecureTest keyring: tunnel 5.0.2 is no Data Secure sender of 0/4/0. An expose always
    sends on its address, so the confirm step warns."""
    from custom_components.knx_secure.knx.gateway import VirtualGateway  # noqa: PLC0415
    from custom_components.knx_secure.knx.keyring import load_keyring  # noqa: PLC0415

    path = FIXTURES / "SecureTest.knxkeys"
    virtual = VirtualGateway(await hass.async_add_executor_job(load_keyring, path, "test"))
    await virtual.start()
    try:
        await _helpers(hass)
        entry = await async_add_gateway_entry(
            hass,
            virtual,
            upload_file,
            tunnel="5.0.2",
            keyring_source=path.read_bytes(),
            password="test",
        )
        result = await _form(hass, entry, _data("0/4/0", "9.001", INPUT_NUMBER))
        assert result["step_id"] == "confirm_tunnel_not_sender"
        assert result["description_placeholders"]["not_sender_addresses"] == "0/4/0"
        hass.config_entries.subentries.async_abort(result["flow_id"])
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await virtual.stop()


@pytest.mark.parametrize(
    ("dpt_id", "raw", "value"),
    [
        ("1.001", "on", True),
        ("1.001", "not_home", False),
        ("1.008", "up", "up"),
        ("5.001", "49.6", 50),
        ("9.001", 21, 21.0),
        ("16.000", 12, "12"),
        ("10.001", "07:08:09", None),  # the day is today's: checked below
        ("11.001", "2024-02-29", {"year": 2024, "month": 2, "day": 29}),
        ("9.001", "unknown", None),
        ("9.001", "unavailable", None),
        ("9.001", None, None),
        ("9.001", "warm", None),
    ],
)
def test_state_values(hass: HomeAssistant, dpt_id: str, raw: Any, value: DPTValue | None) -> None:
    result = expose.state_value(get_dpt(dpt_id), raw)
    if dpt_id == "10.001":
        assert isinstance(result, dict)
        assert (result["hour"], result["minutes"], result["seconds"]) == (7, 8, 9)
        return
    assert result == value


def test_state_value_of_an_input_datetime() -> None:
    """19.001 from an input datetime's state text."""
    value = expose.state_value(get_dpt("19.001"), "2024-02-29 12:30:05")
    assert isinstance(value, dict)
    assert (value["year"], value["month"], value["day"]) == (2024, 2, 29)
    assert (value["hour"], value["minutes"], value["seconds"]) == (12, 30, 5)
    assert value["day_of_week"] == "thursday"
