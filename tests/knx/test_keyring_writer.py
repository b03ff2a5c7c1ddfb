"""keyring_writer.py: written keyrings load back to the same content, in ours and in xknx."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest
from xknx.secure.keyring import Keyring as XknxKeyring
from xknx.secure.keyring import sync_load_keyring

from custom_components.knx_secure.knx import cli
from custom_components.knx_secure.knx.errors import KeyringFormatError, KeyringPasswordError
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring
from custom_components.knx_secure.knx.keyring_writer import keyring_from_summary, write_keyring

from .conftest import KEYRING_BY_NAME, KEYRINGS, KeyringFixture

NEW_PASSWORD = "n€w pässword"


def content(keyring: Keyring) -> dict[str, object]:
    """Everything a keyring says, secrets included; the signature depends on the password."""
    summary = keyring.summary(show_secrets=True)
    del summary["signature"]
    summary["devices_full"] = [dataclasses.asdict(d) for d in keyring.devices]
    return summary


def xknx_content(keyring: XknxKeyring) -> dict[str, Any]:
    return {
        "project": (keyring.project_name, keyring.created, keyring.created_by),
        "backbone": None
        if keyring.backbone is None
        else (
            keyring.backbone.multicast_address,
            keyring.backbone.latency,
            keyring.backbone.decrypted_key,
        ),
        "interfaces": [
            (
                i.type.value,
                i.individual_address.raw,
                i.host.raw if i.host else None,
                i.user_id,
                i.decrypted_password,
                i.decrypted_authentication,
                {ga.raw: [s.raw for s in senders] for ga, senders in i.group_addresses.items()},
            )
            for i in keyring.interfaces
        ],
        "group_keys": {ga.address.raw: ga.decrypted_key for ga in keyring.group_addresses},
        "devices": [
            (
                d.individual_address.raw,
                d.decrypted_tool_key,
                d.decrypted_management_password,
                d.decrypted_authentication,
                d.sequence_number,
            )
            for d in keyring.devices
        ],
    }


def fixed_random(seed: int) -> Any:
    rng = random.Random(seed)
    return rng.randbytes


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_round_trip_keeps_the_content(kr: KeyringFixture, tmp_path: Path) -> None:
    original = load_keyring(kr.path, kr.password)
    written = write_keyring(original, NEW_PASSWORD, random_bytes=fixed_random(1))
    again = load_keyring(written, NEW_PASSWORD)
    assert content(again) == content(original)
    # and xknx, an independent reader, sees in it what it sees in the ETS original
    path = tmp_path / "written.knxkeys"
    path.write_bytes(written)
    assert xknx_content(sync_load_keyring(path, NEW_PASSWORD)) == xknx_content(
        sync_load_keyring(kr.path, kr.password)
    )


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_summary_with_secrets_writes_the_same_keyring(kr: KeyringFixture) -> None:
    original = load_keyring(kr.path, kr.password)
    rebuilt = keyring_from_summary(original.summary(show_secrets=True))
    again = load_keyring(write_keyring(rebuilt, "pw"), "pw")
    ours, theirs = original.summary(show_secrets=True), again.summary(show_secrets=True)
    del ours["signature"], theirs["signature"]
    assert theirs == ours


def test_written_keyring_refuses_the_wrong_password() -> None:
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    written = write_keyring(load_keyring(kr.path, kr.password), "right")
    with pytest.raises(KeyringPasswordError):
        load_keyring(written, "wrong")


def test_random_prefixes_differ_between_writes() -> None:
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    keyring = load_keyring(kr.path, kr.password)
    assert write_keyring(keyring, "pw") != write_keyring(keyring, "pw")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("project"), "project must be a string"),
        (lambda s: s["group_keys"].update({"1/1/1": "<redacted>"}), "redacted"),
        (lambda s: s["group_keys"].update({"1/1/1": "abcd"}), "16-octet key"),
        (lambda s: s["group_keys"].update({"99/0/0": "00" * 16}), "99/0/0"),
        (lambda s: s["interfaces"][0].update({"password": "<redacted>"}), "redacted"),
        (lambda s: s["interfaces"][0].update({"type": "Modem"}), "Modem"),
        (lambda s: s["interfaces"][0].update({"user_id": -1}), "user_id"),
        (lambda s: s["devices"][0].update({"sequence_number": True}), "sequence_number"),
        (lambda s: s.update({"devices": "none"}), "devices must be a list"),
    ],
)
def test_bad_summaries_name_the_field(change: Any, message: str) -> None:
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    summary = load_keyring(kr.path, kr.password).summary(show_secrets=True)
    change(summary)
    with pytest.raises(KeyringFormatError, match=message):
        keyring_from_summary(summary)


def test_redacted_summary_is_refused_not_written() -> None:
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    with pytest.raises(KeyringFormatError, match="--show-secrets"):
        keyring_from_summary(load_keyring(kr.path, kr.password).summary())


# --- keyring create (command line) ----------------------------------------------------------------


def test_keyring_create_writes_what_keyring_show_secrets_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    assert cli.main(["keyring", str(kr.path), "--password", kr.password, "--show-secrets"]) == 0
    summary_path = tmp_path / "summary.json"
    summary_path.write_text(capsys.readouterr().out, encoding="utf-8")
    out = tmp_path / "new.knxkeys"
    args = ["keyring", "create", str(out), "--from", str(summary_path), "--password", "pw"]
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out) == {
        "created": str(out),
        "project": "Secure Test",
        "interfaces": 4,
        "group_keys": 2,
        "devices": 2,
    }
    # what the summary shows survives (it has no serial numbers or FDSKs: those stay out)
    written = load_keyring(out, "pw").summary(show_secrets=True)
    assert written.pop("signature") != kr.expected().pop("signature")
    assert written == {k: v for k, v in kr.expected().items() if k != "signature"}
    # an existing file is kept unless --force says otherwise
    before = out.read_bytes()
    assert cli.main(args) == 1
    assert "exists: pass --force" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert cli.main([*args, "--force"]) == 0
    assert out.read_bytes() != before


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        ("not json", "is not JSON"),
        ("[1, 2]", "not a keyring summary"),
        ('{"project": "x"}', "created must be a string"),
    ],
)
def test_keyring_create_names_what_is_wrong_with_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], summary: str, message: str
) -> None:
    summary_path = tmp_path / "summary.json"
    summary_path.write_text(summary, encoding="utf-8")
    out = tmp_path / "new.knxkeys"
    args = ["keyring", "create", str(out), "--from", str(summary_path), "--password", "pw"]
    assert cli.main(args) == 1
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not out.exists()
