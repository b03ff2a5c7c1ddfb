"""Why a received frame or telegram was dropped: one vocabulary for every layer.

The secure session, the tunnel, Data Secure, the client and the simulated devices all count
their drops under these names, so "mac" or "replay" mean the same wherever they are counted.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DropReason"]


class DropReason(StrEnum):
    """Why a received frame was dropped (the keys of every ``dropped`` counter)."""

    SESSION_ID = "session_id"  # wrapper for another session
    MAC = "mac"  # a MAC does not verify (wrapper or Data Secure): forged or wrong key
    REPLAY = "replay"  # sequence number not newer than the last accepted one (or repeated)
    REFLECTED = "reflected"  # wrapper with our own serial number: ours, sent back to us
    MALFORMED = "malformed"  # not a valid frame, or a secure service that is not handled
    UNEXPECTED = "unexpected"  # valid, but not allowed in this state
    CHANNEL = "channel"  # tunnel: frame for another channel id
    NO_KEY = "no_key"  # Data Secure: secure telegram to a group address or device without key
    PLAIN = "plain"  # Data Secure: plain telegram to a group address that has a key
