"""Shared fixtures of the library tests: test vectors by id and the ETS keyrings.

Everything is read from tests/fixtures (relative to this file), never from elsewhere.

    def test_x(vector):            v = vector("an159.session")
    @pytest.mark.parametrize("kr", KEYRINGS, ids=str)
    def test_y(kr):                kr.path, kr.password, kr.expected()
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from ..helpers import virtual_gateway

# No per-example deadline: it is a timed assertion, and on a loaded 2-core machine a keyring
# load (PBKDF2) takes 340 ms as easily as 40. The properties are about values, not speed.
settings.register_profile("knx", deadline=None)
settings.load_profile("knx")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VECTORS_DIR = FIXTURES / "vectors"


@cache
def all_vectors() -> dict[str, dict[str, Any]]:
    """Every vector of tests/fixtures/vectors/*.json by its id (ids are unique)."""
    vectors: dict[str, dict[str, Any]] = {}
    for path in sorted(VECTORS_DIR.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            if entry["id"] in vectors:
                raise ValueError(f"duplicate vector id {entry['id']} in {path.name}")
            vectors[entry["id"]] = entry
    return vectors


def get_vector(vector_id: str) -> dict[str, Any]:
    """One vector by id; KeyError names the id when it does not exist."""
    vector: dict[str, Any] = all_vectors()[vector_id]
    return vector


@dataclass(frozen=True)
class KeyringFixture:
    """One ETS keyring of tests/fixtures with its password (from INDEX.md)."""

    name: str  # file name, e.g. "SecureTest.knxkeys"
    password: str

    @property
    def path(self) -> Path:
        return FIXTURES / self.name

    @property
    def expected_path(self) -> Path:
        return FIXTURES / f"{self.name.removesuffix('.knxkeys')}.expected.json"

    def expected(self) -> dict[str, Any]:
        """The decoded content made by an independent implementation (xknx), except that an
        attribute the file does not have is null: xknx shows 0 for a Device without
        SequenceNumber, which looks like a real sequence number."""
        content: dict[str, Any] = json.loads(self.expected_path.read_text(encoding="utf-8"))
        devices = re.findall(rb"<Device\s[^>]*>", self.path.read_bytes())
        for device, element in zip(content["devices"], devices, strict=True):
            if b" SequenceNumber=" not in element:
                device["sequence_number"] = None
        return content

    def __str__(self) -> str:
        return self.name


def _keyrings_from_index() -> tuple[KeyringFixture, ...]:
    # Rows of INDEX.md look like: | `SecureTest.knxkeys` | `test` | ...
    rows = re.findall(
        r"^\|\s*`([^`]+\.knxkeys)`\s*\|\s*`([^`]*)`\s*\|",
        (FIXTURES / "INDEX.md").read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    if not rows:
        raise ValueError("tests/fixtures/INDEX.md lists no keyrings")
    return tuple(KeyringFixture(name, password) for name, password in rows)


KEYRINGS: tuple[KeyringFixture, ...] = _keyrings_from_index()
KEYRING_BY_NAME: dict[str, KeyringFixture] = {kr.name: kr for kr in KEYRINGS}


#: The TIMER_NOTIFY MAC vectors (tests/fixtures/vectors), for the crypto and session tests.
TIMER_NOTIFY_IDS = [
    "timer_notify_mac_one_hour",
    "timer_notify_mac_one_hour_minus_99",
    "timer_notify_mac_one_hour_minus_100",
    "timer_notify_mac_one_hour_minus_999",
    "timer_notify_mac_one_hour_minus_1000",
    "timer_notify_mac_zero",
]


@pytest.fixture(autouse=True)
def _sockets_allowed(request: pytest.FixtureRequest) -> None:
    """Let the library's tests use 127.0.0.1 where Home Assistant's test plugin is installed.

    pytest-homeassistant-custom-component blocks sockets for every test of the session; these
    tests are not Home Assistant tests. Without the plugin there is nothing to undo.
    """
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")


@pytest.fixture
def vector() -> Callable[[str], dict[str, Any]]:
    """Getter of a vector by id: ``vector("an159.session")``."""
    return get_vector


@pytest.fixture
def keyrings() -> tuple[KeyringFixture, ...]:
    """All keyrings of tests/fixtures with their passwords."""
    return KEYRINGS


@pytest.fixture
def secure_test_keyring() -> KeyringFixture:
    """SecureTest.knxkeys (password "test"): Data Secure GAs 0/4/x, device 4.0.9."""
    return KEYRING_BY_NAME["SecureTest.knxkeys"]


# --- the Secure Test keyring and a virtual gateway of it on 127.0.0.1 ------------------------

#: Secure Test.knxkeys (password "passwordprogetto"): gateway 1.1.0, tunnels 1.1.252-255.
SECURE_TEST = KEYRING_BY_NAME["Secure Test.knxkeys"]


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    """Secure Test.knxkeys, decrypted once per test module."""
    return load_keyring(SECURE_TEST.path, SECURE_TEST.password)


@pytest.fixture
async def gateway(keyring: Keyring) -> AsyncIterator[VirtualGateway]:
    """A running ``virtual_gateway(keyring)`` (a module may define its own)."""
    virtual = virtual_gateway(keyring)
    await virtual.start()
    yield virtual
    await virtual.stop()
