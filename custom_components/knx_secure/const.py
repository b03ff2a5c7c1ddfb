"""Constants of the KNX Secure integration (Home Assistant layer)."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "knx_secure"

PLATFORMS: Final = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]

DEFAULT_PORT: Final = 3671

# Config entry data.
CONF_KEYRING_FILE: Final = "keyring_file"  # file name inside the keyring directory
CONF_KEYRING_PASSWORD: Final = "keyring_password"  # noqa: S105 - a key name
CONF_PROJECT: Final = "project"  # ETS project name (from the keyring)
CONF_GATEWAY_ADDRESS: Final = "gateway_address"  # the gateway's individual address ("1.1.0")
CONF_GATEWAY_NAME: Final = "gateway_name"  # friendly name from discovery, may be empty
CONF_TUNNEL: Final = "tunnel"  # TUNNEL_AUTOMATIC or a tunnel's individual address
TUNNEL_AUTOMATIC: Final = "automatic"

# Config flow only fields.
CONF_KEYRING_UPLOAD: Final = "keyring_upload"
CONF_GATEWAY: Final = "gateway"
GATEWAY_MANUAL: Final = "manual"

# Config subentries.
SUBENTRY_SWITCH: Final = "switch"
SUBENTRY_BINARY_SENSOR: Final = "binary_sensor"
# Every group address field of a subentry ends with this (the coordinator finds them by it).
ADDRESS_SUFFIX: Final = "_address"
CONF_WRITE_ADDRESS: Final = "write_address"
CONF_STATE_ADDRESS: Final = "state_address"
CONF_INVERT: Final = "invert"
CONF_SYNC_STATE: Final = "sync_state"

# Services.
SERVICE_SEND: Final = "send"
SERVICE_READ: Final = "read"
ATTR_ADDRESS: Final = "address"
ATTR_VALUE: Final = "value"
ATTR_PAYLOAD: Final = "payload"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# Files and storage.
KEYRING_DIRECTORY: Final = DOMAIN  # below <config>/.storage/
KEYRING_SUFFIX: Final = ".knxkeys"
PENDING_KEYRING_SUFFIX: Final = ".pending.knxkeys"
STORAGE_VERSION: Final = 1
STORAGE_SAVE_DELAY: Final = 1.0  # seconds: debounce of the Data Secure counter writes

# Runtime behaviour.
STATUS_READS_IN_FLIGHT: Final = 2  # status reads awaiting their answer at once (as xknx)
MAC_FAILURE_ISSUE_THRESHOLD: Final = 3  # MAC failures on a used GA before a repair issue
ISSUE_MAC_FAILURES: Final = "data_secure_mac_failures"
