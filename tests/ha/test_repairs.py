"""Repairs for rejected telegrams: the cause reported is the cause that happened (real
telegrams on the virtual gateway's bus), grouped by sender and address; the fix flow takes
a new keyring."""

from __future__ import annotations

import dataclasses
from http import HTTPStatus
from types import MappingProxyType

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.knx_secure.const import DOMAIN, SUBENTRY_SWITCH
from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import LData, MessageCode
from custom_components.knx_secure.knx.data_secure import (
    DataSecure,
    FreshnessTable,
    SequenceCounter,
    unix_ms,
)
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.telegram import TelegramDropped
from custom_components.knx_secure.repairs import CAUSES, issue_id

from ..helpers import STATUS, wait_for
from .conftest import KEYRING_BYTES, KEYRING_PASSWORD, Setup, UploadFile, async_add_subentry

SENDER = IndividualAddress.parse("1.1.9")
UNKEYED = GroupAddress.parse("1/1/5")  # no key in the test keyring


def _write(dst: GroupAddress) -> LData:
    return LData(code=MessageCode.L_DATA_IND, src=SENDER, dst=dst, tpdu=cemi.group_value_write(1))


def _sealer(keyring: Keyring) -> DataSecure:
    """Data Secure of the sender 1.1.9 with this keyring's keys."""
    return DataSecure.from_keyring(
        keyring,
        counter=SequenceCounter.volatile(1, unix_ms()),
        freshness=FreshnessTable({}),
        individual_address=SENDER,
    )


def _issue(
    hass: HomeAssistant, setup: Setup, reason: DropReason, address: GroupAddress
) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, issue_id(setup.entry.entry_id, reason, SENDER, address)
    )


async def _rejected(setup: Setup, reason: DropReason, count: int) -> None:
    coordinator = setup.entry.runtime_data
    await wait_for(lambda: coordinator.dropped.get(str(reason), 0) >= count)


async def test_plain_telegrams_on_a_secured_address_are_reported_as_plain(
    hass: HomeAssistant, setup: Setup
) -> None:
    for _ in range(CAUSES[DropReason.PLAIN].threshold):
        setup.gateway.inject(_write(STATUS))
    await _rejected(setup, DropReason.PLAIN, CAUSES[DropReason.PLAIN].threshold)
    await hass.async_block_till_done()
    issue = _issue(hass, setup, DropReason.PLAIN, STATUS)
    assert issue is not None
    assert issue.translation_key == "rejected_plain"
    assert issue.translation_placeholders["sender"] == "1.1.9"
    assert issue.is_fixable
    # and no other cause was reported for it
    assert _issue(hass, setup, DropReason.MAC, STATUS) is None
    assert _issue(hass, setup, DropReason.REPLAY, STATUS) is None


async def test_replayed_telegrams_are_reported_as_replays(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    frame = _sealer(knx_keyring).secure_outgoing(_write(STATUS))
    replays = CAUSES[DropReason.REPLAY].threshold
    for _ in range(replays + 1):  # the first is accepted, the rest are replays
        setup.gateway.inject(frame)
    await _rejected(setup, DropReason.REPLAY, replays)
    await hass.async_block_till_done()
    issue = _issue(hass, setup, DropReason.REPLAY, STATUS)
    assert issue is not None
    assert issue.translation_key == "rejected_replay"
    assert not issue.is_fixable  # a new keyring does not fix a replay
    assert _issue(hass, setup, DropReason.MAC, STATUS) is None


async def test_secure_telegrams_without_a_key_are_reported_as_no_key(
    hass: HomeAssistant, setup: Setup, knx_keyring: Keyring
) -> None:
    await async_add_subentry(
        hass, setup.entry, SUBENTRY_SWITCH, {CONF_NAME: "Garden", "write_address": "1/1/5"}
    )
    # the sender has a key for 1/1/5 that Home Assistant's keyring does not have
    keys = {**knx_keyring.group_keys, UNKEYED: bytes(range(16))}
    sealer = _sealer(dataclasses.replace(knx_keyring, group_keys=MappingProxyType(keys)))
    for _ in range(CAUSES[DropReason.NO_KEY].threshold):
        setup.gateway.inject(sealer.secure_outgoing(_write(UNKEYED)))
    await _rejected(setup, DropReason.NO_KEY, CAUSES[DropReason.NO_KEY].threshold)
    await hass.async_block_till_done()
    issue = _issue(hass, setup, DropReason.NO_KEY, UNKEYED)
    assert issue is not None
    assert issue.translation_key == "rejected_no_key"


async def test_no_issue_for_an_address_no_entity_uses(hass: HomeAssistant, setup: Setup) -> None:
    rejections = setup.entry.runtime_data.rejections
    unused = GroupAddress.parse("7/7/7")
    for _ in range(20):
        rejections.record(TelegramDropped(DropReason.MAC, unused, SENDER))
    assert _issue(hass, setup, DropReason.MAC, unused) is None
    for _ in range(CAUSES[DropReason.MAC].threshold):  # the same on a used address: an issue
        rejections.record(TelegramDropped(DropReason.MAC, STATUS, SENDER))
    assert _issue(hass, setup, DropReason.MAC, STATUS) is not None


async def test_the_fix_flow_takes_a_new_keyring_and_reloads(
    hass: HomeAssistant,
    setup: Setup,
    upload_file: UploadFile,
    hass_client: ClientSessionGenerator,
) -> None:
    rejections = setup.entry.runtime_data.rejections
    for _ in range(CAUSES[DropReason.MAC].threshold):
        rejections.record(TelegramDropped(DropReason.MAC, STATUS, SENDER))
    issue = _issue(hass, setup, DropReason.MAC, STATUS)
    assert issue is not None
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    assert response.status == HTTPStatus.OK, await response.text()
    flow = await response.json()
    assert flow["step_id"] == "keyring"
    url = f"/api/repairs/issues/fix/{flow['flow_id']}"
    response = await client.post(
        url, json={"keyring_upload": await upload_file(KEYRING_BYTES), "keyring_password": "x"}
    )
    flow = await response.json()
    assert flow["errors"] == {"keyring_password": "invalid_keyring_password"}
    response = await client.post(
        url,
        json={
            "keyring_upload": await upload_file(KEYRING_BYTES),
            "keyring_password": KEYRING_PASSWORD,
        },
    )
    flow = await response.json()
    assert flow["type"] == "create_entry", flow
    await hass.async_block_till_done()
    assert setup.entry.state is ConfigEntryState.LOADED
    assert _issue(hass, setup, DropReason.MAC, STATUS) is None
