"""KNXnet/IP tunnelling connections over TCP: client and server machines.

Sans-I/O like ``session.py``: whole plain KNXnet/IP frames (or frames already parsed,
e.g. ``InnerFrame.frame`` from a secure session) go in, bytes to send and events come
out, time is passed in as ``now``. Over a secure session, every byte string these
machines return goes through ``SecureSession.wrap`` before it is sent.

Over TCP the transport is reliable: TUNNELLING_ACK is neither sent nor required (an
ack that arrives is accepted and ignored), and incoming sequence numbers are not
checked (outgoing ones still count up per direction); each L_Data.req is confirmed by
the gateway's L_Data.con, matched to the request by its content (src, dst, TPDU).
"""

from __future__ import annotations

from .client import TunnelClient
from .machine import (
    CONNECTION_TYPE_TUNNEL,
    DEFAULT_CONFIRMATION_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DISCONNECT_TIMEOUT,
    DEFAULT_HEARTBEAT_ANSWER_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_MISSES,
    DEFAULT_SERVER_IDLE_TIMEOUT,
    TUNNEL_LINK_LAYER,
    CloseReason,
    ConfirmationTimedOut,
    ConnectRefused,
    SentTelegram,
    TelegramConfirmed,
    TelegramReceived,
    TunnelClosed,
    TunnelConnected,
    TunnelEvent,
    TunnelState,
)
from .server import TunnelServer, TunnelSlotConfig, TunnelSlots

__all__ = [
    "CONNECTION_TYPE_TUNNEL",
    "DEFAULT_CONFIRMATION_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DISCONNECT_TIMEOUT",
    "DEFAULT_HEARTBEAT_ANSWER_TIMEOUT",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_HEARTBEAT_MISSES",
    "DEFAULT_SERVER_IDLE_TIMEOUT",
    "TUNNEL_LINK_LAYER",
    "CloseReason",
    "ConfirmationTimedOut",
    "ConnectRefused",
    "SentTelegram",
    "TelegramConfirmed",
    "TelegramReceived",
    "TunnelClient",
    "TunnelClosed",
    "TunnelConnected",
    "TunnelEvent",
    "TunnelServer",
    "TunnelSlotConfig",
    "TunnelSlots",
    "TunnelState",
]
