"""Constants of the KNX Secure integration (Home Assistant layer)."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "knx_secure"

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CLIMATE,
    Platform.COVER,
    Platform.DATE,
    Platform.DATETIME,
    Platform.FAN,
    Platform.LIGHT,
    Platform.NOTIFY,
    Platform.NUMBER,
    Platform.SCENE,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
    Platform.TIME,
    Platform.WEATHER,
]

DEFAULT_PORT: Final = 3671

# Config entry data.
CONF_KEYRING_FILE: Final = "keyring_file"  # file name inside the keyring directory
CONF_KEYRING_PASSWORD: Final = "keyring_password"  # noqa: S105 - a key name
CONF_PROJECT: Final = "project"  # ETS project name (from the keyring)
CONF_GATEWAY_ADDRESS: Final = "gateway_address"  # the gateway's individual address ("1.1.0")
CONF_GATEWAY_NAME: Final = "gateway_name"  # friendly name from discovery, may be empty
CONF_TUNNEL: Final = "tunnel"  # TUNNEL_AUTOMATIC or a tunnel's individual address
TUNNEL_AUTOMATIC: Final = "automatic"
# How Home Assistant reaches the installation (entries without it are secure tunnels).
CONF_CONNECTION: Final = "connection"
CONNECTION_TUNNEL_SECURE: Final = "tunnel_secure"  # KNX IP Secure tunnel over TCP
CONNECTION_TUNNEL_TCP: Final = "tunnel_tcp"  # plain tunnel over TCP (Data Secure on top)
CONNECTION_TUNNEL_UDP: Final = "tunnel_udp"  # plain tunnel over UDP (Data Secure on top)
CONNECTION_ROUTING_SECURE: Final = "routing_secure"  # KNX IP Secure routing (backbone key)
CONNECTION_ROUTING: Final = "routing"  # plain routing (Data Secure on top)
TUNNEL_CONNECTIONS: Final = (CONNECTION_TUNNEL_SECURE, CONNECTION_TUNNEL_TCP, CONNECTION_TUNNEL_UDP)
ROUTING_CONNECTIONS: Final = (CONNECTION_ROUTING_SECURE, CONNECTION_ROUTING)
# Routing entries: CONF_HOST is the multicast group (the form's CONF_MULTICAST_GROUP),
# CONF_PORT its port.
CONF_MULTICAST_GROUP: Final = "multicast_group"
CONF_INTERFACE: Final = "interface"  # local IPv4 address to route from; "" = the system's choice
CONF_INDIVIDUAL_ADDRESS: Final = "individual_address"  # Home Assistant's address when routing
DEFAULT_ROUTING_INDIVIDUAL_ADDRESS: Final = "15.15.250"

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
# Sensor subentries (also: state_address, sync_state, device_class, unit_of_measurement).
SUBENTRY_SENSOR: Final = "sensor"
CONF_VALUE_TYPE: Final = "value_type"  # the datapoint type's id, e.g. "9.001"
CONF_STATE_CLASS: Final = "state_class"
CONF_ALWAYS_RECORD: Final = "always_record"  # write the state even when it is unchanged

# Climate subentry (CONF_INVERT inverts its on/off).
SUBENTRY_CLIMATE: Final = "climate"
CONF_TEMPERATURE_ADDRESS: Final = "temperature_address"
CONF_TARGET_TEMPERATURE_ADDRESS: Final = "target_temperature_address"
CONF_TARGET_TEMPERATURE_STATE_ADDRESS: Final = "target_temperature_state_address"
CONF_SETPOINT_SHIFT_ADDRESS: Final = "setpoint_shift_address"
CONF_SETPOINT_SHIFT_STATE_ADDRESS: Final = "setpoint_shift_state_address"
CONF_SETPOINT_SHIFT_DPT: Final = "setpoint_shift_dpt"  # "6.010" (counts of the step) or "9.002"
CONF_OPERATION_MODE_ADDRESS: Final = "operation_mode_address"
CONF_OPERATION_MODE_STATE_ADDRESS: Final = "operation_mode_state_address"
CONF_CONTROLLER_MODE_ADDRESS: Final = "controller_mode_address"
CONF_CONTROLLER_MODE_STATE_ADDRESS: Final = "controller_mode_state_address"
CONF_CONTROLLER_MODES: Final = "controller_modes"  # the HVAC modes offered
CONF_ON_OFF_ADDRESS: Final = "on_off_address"
CONF_ON_OFF_STATE_ADDRESS: Final = "on_off_state_address"
CONF_HEAT_COOL_ADDRESS: Final = "heat_cool_address"
CONF_HEAT_COOL_STATE_ADDRESS: Final = "heat_cool_state_address"
CONF_MIN_TEMP: Final = "min_temp"
CONF_MAX_TEMP: Final = "max_temp"
CONF_TEMPERATURE_STEP: Final = "temperature_step"

# Expose subentry (also: value_type): a Home Assistant value sent to the bus, or the clock.
SUBENTRY_EXPOSE: Final = "expose"
CONF_EXPOSE_ADDRESS: Final = "expose_address"
CONF_EXPOSE_ENTITY: Final = "entity_id"  # empty: the clock (value types 10.001, 11.001, 19.001)
CONF_EXPOSE_ATTRIBUTE: Final = "attribute"  # empty: the entity's state
CONF_EXPOSE_COOLDOWN: Final = "cooldown"  # seconds between two sends of a changing value
CONF_EXPOSE_PERIOD: Final = "periodic_send"  # seconds between two resends; 0: on change only
EXPOSE_CLOCK_PERIOD: Final = 3600  # seconds: a clock expose without a period is sent hourly
# Light subentries: every value has a write address "<part>_address" and an optional status
# address "<part>_state_address" (LIGHT_PARTS; the colour channels are "<colour>_brightness"
# and "<colour>_switch" of LIGHT_CHANNELS).
SUBENTRY_LIGHT: Final = "light"
CONF_LIGHT_SWITCH: Final = "switch"
CONF_LIGHT_BRIGHTNESS: Final = "brightness"
CONF_LIGHT_COLOR_TEMPERATURE: Final = "color_temperature"
CONF_LIGHT_COLOR: Final = "color"
LIGHT_CHANNELS: Final = ("red", "green", "blue", "white")
CONF_COLOR_TEMPERATURE_TYPE: Final = "color_temperature_type"  # "7.600" or "5.001"
CONF_COLOR_TYPE: Final = "color_type"  # "232.600" RGB, "251.600" RGBW or "242.600" xyY
CONF_MIN_KELVIN: Final = "min_kelvin"
CONF_MAX_KELVIN: Final = "max_kelvin"
DEFAULT_MIN_KELVIN: Final = 2700
DEFAULT_MAX_KELVIN: Final = 6500
# Date, time and date-time subentries (write_address, state_address, sync_state).
SUBENTRY_DATE: Final = "date"
SUBENTRY_TIME: Final = "time"
SUBENTRY_DATETIME: Final = "datetime"
# Fan subentry (speed_dpt: "5.001" percent or "5.010" steps up to max_step).
SUBENTRY_FAN: Final = "fan"
CONF_SWITCH_ADDRESS: Final = "switch_address"
CONF_SWITCH_STATE_ADDRESS: Final = "switch_state_address"
CONF_SPEED_ADDRESS: Final = "speed_address"
CONF_SPEED_STATE_ADDRESS: Final = "speed_state_address"
CONF_SPEED_DPT: Final = "speed_dpt"
CONF_MAX_STEP: Final = "max_step"
CONF_OSCILLATION_ADDRESS: Final = "oscillation_address"
CONF_OSCILLATION_STATE_ADDRESS: Final = "oscillation_state_address"
# Weather subentry: a weather station's values (their types are fixed: weather.WEATHER_TYPES).
SUBENTRY_WEATHER: Final = "weather"
CONF_BRIGHTNESS_SOUTH_ADDRESS: Final = "brightness_south_address"
CONF_BRIGHTNESS_WEST_ADDRESS: Final = "brightness_west_address"
CONF_BRIGHTNESS_EAST_ADDRESS: Final = "brightness_east_address"
CONF_BRIGHTNESS_NORTH_ADDRESS: Final = "brightness_north_address"
CONF_WIND_SPEED_ADDRESS: Final = "wind_speed_address"
CONF_WIND_DIRECTION_ADDRESS: Final = "wind_direction_address"
CONF_RAIN_ALARM_ADDRESS: Final = "rain_alarm_address"
CONF_FROST_ALARM_ADDRESS: Final = "frost_alarm_address"
CONF_HUMIDITY_ADDRESS: Final = "humidity_address"
CONF_AIR_PRESSURE_ADDRESS: Final = "air_pressure_address"
# Notify subentry (write_address, value_type: "16.000" or "16.001").
SUBENTRY_NOTIFY: Final = "notify"
# Cover subentry (cover.py, subentries/cover.py).
SUBENTRY_COVER: Final = "cover"
CONF_UP_DOWN_ADDRESS: Final = "up_down_address"  # DPT 1.008, long-time movement
CONF_STOP_ADDRESS: Final = "stop_address"  # DPT 1.017 stop or 1.007 step (CONF_STOP_DPT)
CONF_STOP_DPT: Final = "stop_dpt"
CONF_POSITION_ADDRESS: Final = "position_address"  # DPT 5.001, 0 % = open on the bus
CONF_POSITION_STATE_ADDRESS: Final = "position_state_address"
CONF_ANGLE_ADDRESS: Final = "angle_address"  # DPT 5.001 slat angle
CONF_ANGLE_STATE_ADDRESS: Final = "angle_state_address"
CONF_TRAVEL_TIME_DOWN: Final = "travel_time_down"  # s for a full travel down
CONF_TRAVEL_TIME_UP: Final = "travel_time_up"
CONF_INVERT_UP_DOWN: Final = "invert_up_down"
CONF_INVERT_POSITION: Final = "invert_position"
CONF_INVERT_ANGLE: Final = "invert_angle"
DEFAULT_TRAVEL_TIME: Final = 25.0
# Number, select, scene, button and text subentries (CONF_WRITE_ADDRESS, CONF_STATE_ADDRESS
# and CONF_VALUE_TYPE as above).
SUBENTRY_NUMBER: Final = "number"
SUBENTRY_SELECT: Final = "select"
SUBENTRY_SCENE: Final = "scene"
SUBENTRY_BUTTON: Final = "button"
SUBENTRY_TEXT: Final = "text"
CONF_RESPOND_TO_READ: Final = "respond_to_read"  # the entity answers GroupValueRead
CONF_MIN: Final = "min"
CONF_MAX: Final = "max"
CONF_STEP: Final = "step"
CONF_MODE: Final = "mode"  # number: "box" or "slider"
CONF_OPTIONS: Final = "options"  # select: one "label = value" per line
CONF_SCENE_ADDRESS: Final = "scene_address"
CONF_SCENE_NUMBER: Final = "scene_number"  # 1..64 (DPT 17.001)
CONF_PAYLOAD: Final = "payload"  # button: the value it sends, as text ("on", "42")

# Services.
SERVICE_SEND: Final = "send"
SERVICE_READ: Final = "read"
SERVICE_EVENT_REGISTER: Final = "event_register"
ATTR_ADDRESS: Final = "address"
ATTR_VALUE: Final = "value"
ATTR_PAYLOAD: Final = "payload"
ATTR_TYPE: Final = "type"
ATTR_REMOVE: Final = "remove"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# Files and storage.
KEYRING_DIRECTORY: Final = DOMAIN  # below <config>/.storage/
KEYRING_SUFFIX: Final = ".knxkeys"
PENDING_KEYRING_SUFFIX: Final = ".pending.knxkeys"
STORAGE_VERSION: Final = 1
STORAGE_SAVE_DELAY: Final = 1.0  # seconds: debounce of the Data Secure counter writes

# Runtime behaviour.
STATS_INTERVAL: Final = 5.0  # seconds: the telegram counter sensors update at most this often
STATUS_READS_IN_FLIGHT: Final = 2  # status reads awaiting their answer at once (as xknx)
ISSUE_ROUTING_MAC_FAILURES: Final = "routing_mac_failures"  # backbone key does not match
ROUTING_MAC_ISSUE_THRESHOLD: Final = 3  # routing frames failing the backbone key's MAC
ROUTING_COUNTER_INTERVAL: Final = 30.0  # seconds between two looks at the routing drop counters
