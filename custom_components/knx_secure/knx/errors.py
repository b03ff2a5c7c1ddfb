"""The library's one exception hierarchy.

Every message says what went wrong and, where it helps, what to do. No message
ever carries a key, a password or a decrypted secret.
"""

from __future__ import annotations


class KNXSecureError(Exception):
    """Base of every error this library raises."""


# --- bytes on the wire -------------------------------------------------------


class FrameError(KNXSecureError):
    """A KNXnet/IP frame, cEMI frame or APDU is malformed."""


class DPTError(FrameError, ValueError):
    """A value or payload does not fit its datapoint type; the message names the type and why."""


class AddressError(KNXSecureError, ValueError):
    """An individual or group address is not valid text or out of range."""


# --- keyring -------------------------------------------------------------------


class KeyringError(KNXSecureError):
    """The ETS keyring cannot be used."""


class KeyringPasswordError(KeyringError):
    """The keyring password is wrong."""


class KeyringTamperedError(KeyringError):
    """The keyring signature does not match although the password is right: the file was changed."""


class KeyringFormatError(KeyringError):
    """The file is not an ETS keyring (not XML, wrong root element or missing attributes)."""


class KeyringVersionError(KeyringError):
    """The file is a keyring of a version this library does not support."""


# --- KNX Data Secure -----------------------------------------------------------


class DataSecureError(KNXSecureError):
    """A Data Secure telegram cannot be produced or accepted."""


class DataSecureKeyMissingError(DataSecureError):
    """There is no key for this group address or device."""


class DataSecureMacError(DataSecureError):
    """The MAC of a secure APDU does not verify (wrong key or forged telegram)."""


class DataSecureReplayError(DataSecureError):
    """The sequence number is not newer than the last one accepted from that sender."""


class DataSecurePlainRejectedError(DataSecureError):
    """A plain telegram was sent to or received for a group address that has a key."""


# --- KNXnet/IP Secure session ------------------------------------------------------


class SessionError(KNXSecureError):
    """The secure session failed or was closed."""


class AuthenticationError(SessionError):
    """The gateway refused the user id and password (SESSION_STATUS authentication failed)."""


class DeviceAuthenticationError(SessionError):
    """The gateway did not prove the keyring's device authentication code: possibly an impostor."""


class SessionClosedError(SessionError):
    """The session is closed (by either side, by timeout or by an unauthenticated status)."""


# --- tunnelling connection -----------------------------------------------------------


class TunnelError(KNXSecureError):
    """The tunnelling connection could not be opened or was lost."""


class ConnectRefusedError(TunnelError):
    """The gateway answered CONNECT_REQUEST with an error status."""


class NoFreeTunnelError(TunnelError):
    """Every tunnel that was tried is busy or refused; the message names each one and why."""


class ConfirmationTimeoutError(TunnelError):
    """The gateway did not confirm a telegram (L_Data.con) in time."""


class ResponseTimeoutError(KNXSecureError):
    """No answer arrived in time (a GroupValueResponse, a session or connect response)."""


class GatewayUnreachableError(KNXSecureError):
    """The gateway cannot be reached over TCP (refused, reset or timed out)."""


class NotConnectedError(KNXSecureError):
    """An operation needs an open tunnel and there is none right now."""


class WrapperMacError(SessionError):
    """A SECURE_WRAPPER's MAC does not verify (wrong key or forged frame); drop the frame."""


class DataSecureDuplicateError(DataSecureReplayError):
    """The sequence number equals the last one accepted: a repeated frame, normal on a bus."""


class InstallationError(KNXSecureError, ValueError):
    """An installation file (simulated devices) is not valid: names the device and field."""
