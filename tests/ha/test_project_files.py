"""The ETS project fixtures (tests/fixtures/projects, INDEX.md) and demo/Demo Home.knxproj:
xknxproject (the parser the import uses) reads each to the content INDEX.md states, a wrong
password fails, and the writer regenerates every file byte for byte.

These live with the Home Assistant tests because xknxproject is only installed there.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from xknxproject import XKNXProj
from xknxproject.exceptions import (
    InvalidPasswordException,
    ProjectNotFoundException,
    UnexpectedFileContent,
)

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = ROOT / "tests" / "fixtures" / "projects"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _load("make_project_fixtures", PROJECTS / "make.py")
ETS: Any = MAKE.ets
HOME: Any = MAKE.home

PASSWORDS = {
    "ets5-protected.knxproj": MAKE.ETS5_PASSWORD,
    "ets6-protected.knxproj": MAKE.ETS6_PASSWORD,
}
PROJECT_FILES = [name for name in MAKE.FIXTURES if name != "old-schema.knxproj"]


def parse(path: Path, password: str | None = None) -> Any:
    return XKNXProj(path, password=password, language="en-US").parse()


def xknxproject_address(number: int, style: str) -> str:
    """How xknxproject writes an address of ``style`` (its keys)."""
    if style == "TwoLevel":
        return f"{number >> 11}/{number & 0x7FF}"
    return f"{number >> 11}/{(number >> 8) & 0x7}/{number & 0xFF}"


def expected_dpt(dpt: str | None) -> dict[str, int | None] | None:
    if dpt is None:
        return None
    main, _, sub = dpt.partition(".")
    return {"main": int(main), "sub": int(sub) if sub else None}


def assert_project_matches(parsed: Any, spec: Any) -> None:
    """Everything the writer was told is what xknxproject reads back."""
    assert parsed["info"]["name"] == spec.name
    assert parsed["info"]["created_by"] == ETS.CREATED_BY[spec.ets]
    assert parsed["info"]["tool_version"] == ETS.TOOL_VERSION[spec.ets]
    assert parsed["info"]["schema_version"] == str(ETS.SCHEMA[spec.ets])
    assert parsed["info"]["group_address_style"] == spec.style
    addresses = parsed["group_addresses"]
    assert len(addresses) == len(spec.addresses)
    for ga in spec.addresses:
        got = addresses[xknxproject_address(ETS.group_address_number(ga.address), spec.style)]
        assert (got["name"], got["description"]) == (ga.name, ga.description)
        assert got["dpt"] == expected_dpt(ga.dpt), ga.address
        assert got["data_secure"] is ga.secure, ga.address
    devices = parsed["devices"]
    assert {address: d["name"] for address, d in devices.items()} == {
        d.address: d.name for d in spec.devices
    }
    assert all(d["hardware_name"] == ETS.PRODUCT_NAME for d in devices.values())
    building = parsed["locations"][spec.name]
    assert building["type"] == "Building"
    assert {name: room["devices"] for name, room in building["spaces"].items()} == {
        room.name: sorted(room.devices, key=lambda a: tuple(a.split("."))) for room in spec.rooms
    }
    functions = [
        (f["name"], f["function_type"], f["space_id"], f["group_addresses"])
        for f in parsed["functions"].values()
    ]
    rooms = {room["identifier"]: name for name, room in building["spaces"].items()}
    assert [
        (name, kind, rooms[space], [(ref["role"], ga) for ga, ref in refs.items()])
        for name, kind, space, refs in functions
    ] == sorted(
        ((f.name, f.function_type, f.room, list(f.addresses)) for f in spec.functions),
        key=lambda f: [room.name for room in spec.rooms].index(f[2]),
    )


@pytest.mark.parametrize("name", PROJECT_FILES)
async def test_xknxproject_reads_each_fixture_as_written(name: str) -> None:
    parsed = parse(PROJECTS / name, PASSWORDS.get(name))
    assert_project_matches(parsed, MAKE.FIXTURES[name]())


async def test_the_etss_files_hold_what_index_md_states() -> None:
    """The numbers and examples INDEX.md gives, literally."""
    ets4 = parse(PROJECTS / "ets4.knxproj")
    assert sorted(ets4["group_addresses"]) == [
        "1/257", "1/258", "1/513", "1/514", "1/515", "1/516", "2/257", "2/258"
    ]  # fmt: skip
    assert ets4["info"]["name"] == "Demo Home (ETS 4)"
    assert ets4["functions"] == {}
    for name in ("ets5.knxproj", "ets6.knxproj"):
        parsed = parse(PROJECTS / name)
        addresses = parsed["group_addresses"]
        assert len(addresses) == 91
        assert sum(ga["data_secure"] for ga in addresses.values()) == 78
        assert len(parsed["devices"]) == 17
        brightness = addresses["1/2/3"]
        assert brightness["name"] == "Living room light brightness"
        assert brightness["description"] == "Living room dimmer"
        assert (brightness["dpt"], brightness["data_secure"]) == ({"main": 5, "sub": 1}, True)
        assert addresses["3/1/3"]["dpt"] is None
        assert addresses["3/1/4"]["dpt"] == {"main": 14, "sub": None}
        assert addresses["1/7/1"]["data_secure"] is True
        assert parsed["devices"]["1.1.2"]["name"] == "Living room dimmer"
    ets6 = parse(PROJECTS / "ets6.knxproj")
    assert ets6["info"]["created_by"] == "ETS6"
    kitchen = ets6["functions"]["F-6"]
    assert (kitchen["name"], kitchen["function_type"], kitchen["usage_text"]) == (
        "Kitchen colour light",
        "FT-6",
        "Dimmable light",
    )
    assert kitchen["group_addresses"]["1/2/13"]["role"] == "DimmingValue"
    assert len(ets6["functions"]) == 7


async def test_the_project_against_the_demo_keyring_has_the_findings_index_md_lists() -> None:
    keyring_addresses = {ga for ga, _name, _dpt, _device in HOME.ADDRESSES if ga.startswith("1/")}
    assert len(keyring_addresses) == 77
    ets6 = parse(PROJECTS / "ets6.knxproj")["group_addresses"]
    secure = {ga for ga, info in ets6.items() if info["data_secure"]}
    assert secure - keyring_addresses == {"1/7/1"}
    assert keyring_addresses - set(ets6) == set()
    other = parse(PROJECTS / "other-installation.knxproj")["group_addresses"]
    plan = {ga for ga, _name, _dpt, _device in HOME.ADDRESSES}
    assert set(other) == {"5/0/1", "5/0/2", "5/1/1", "6/0/1"}
    assert not set(other) & plan


@pytest.mark.parametrize("name", sorted(PASSWORDS))
async def test_a_wrong_or_missing_password_fails(name: str) -> None:
    with pytest.raises(InvalidPasswordException, match="Invalid password"):
        parse(PROJECTS / name, "wrong password")
    with pytest.raises(InvalidPasswordException, match="Password required"):
        parse(PROJECTS / name)


async def test_a_zip_that_is_no_project_and_an_unreadable_schema_fail() -> None:
    with pytest.raises(ProjectNotFoundException):
        parse(PROJECTS / "not-a-project.knxproj")
    with pytest.raises(UnexpectedFileContent, match="schema version"):
        parse(PROJECTS / "old-schema.knxproj")


@pytest.mark.parametrize("name", MAKE.names())
async def test_regenerating_a_fixture_gives_the_same_bytes(name: str) -> None:
    assert MAKE.fixture_bytes(name) == (PROJECTS / name).read_bytes()


async def test_the_demo_project_is_regenerated_byte_for_byte_and_holds_the_plan() -> None:
    spec = HOME.project_spec()
    assert ETS.project_bytes(spec) == HOME.PROJECT_OUT.read_bytes()
    parsed = parse(HOME.PROJECT_OUT)
    assert_project_matches(parsed, spec)
    assert set(parsed["group_addresses"]) == {ga for ga, *_rest in HOME.ADDRESSES}
    names = HOME.installation_names()
    assert all(parsed["devices"][address]["name"] == name for address, name in names.items())
    kinds = {f["function_type"] for f in parsed["functions"].values()}
    assert {"FT-1", "FT-6", "FT-7", "FT-9"} <= kinds  # lights, blind, heating


async def test_protected_projects_keep_their_xml_only_in_the_encrypted_inner_archive() -> None:
    for name, inner in (("ets5-protected.knxproj", "P-0E55"), ("ets6-protected.knxproj", "P-0E66")):
        with zipfile.ZipFile(PROJECTS / name) as archive:
            names = archive.namelist()
            assert f"{inner}.zip" in names
            assert not any(n.startswith(f"{inner}/") for n in names)
            with zipfile.ZipFile(io.BytesIO(archive.read(f"{inner}.zip"))) as nested:
                assert all(info.flag_bits & 0x1 for info in nested.infolist())


async def test_the_ets5_inner_archive_opens_with_the_plain_password_only() -> None:
    """The classic zip encryption, read by Python's own zipfile (independent of the writer)."""
    with zipfile.ZipFile(PROJECTS / "ets5-protected.knxproj") as archive:
        inner = zipfile.ZipFile(io.BytesIO(archive.read("P-0E55.zip")))
    assert b"Demo Home (ETS 5)" in inner.read("project.xml", pwd=MAKE.ETS5_PASSWORD.encode())
    with pytest.raises(RuntimeError, match="Bad password"):
        inner.read("project.xml", pwd=b"knx-secure-6")


async def test_the_ets6_password_is_derived_from_the_project_password() -> None:
    derived = ETS.ets6_zip_password(MAKE.ETS6_PASSWORD)
    assert len(derived) == 44  # base64 of 32 bytes
    assert derived != ETS.ets6_zip_password(MAKE.ETS6_PASSWORD.upper())


@pytest.mark.parametrize(
    ("address", "number"), [("1/2/3", 2563), ("1/515", 2563), ("2563", 2563), ("31/7/255", 65535)]
)
async def test_the_writer_numbers_addresses_of_every_style(address: str, number: int) -> None:
    assert ETS.group_address_number(address) == number


@pytest.mark.parametrize("address", ["0/0/0", "32/0/1", "1/8/1", "1/2/256", "1/2048", "70000"])
async def test_the_writer_refuses_an_address_out_of_range(address: str) -> None:
    with pytest.raises(ValueError, match="not a group address"):
        ETS.group_address_number(address)


async def test_the_writer_refuses_functions_before_ets6_and_unknown_references() -> None:
    light = ETS.GroupAddressSpec("1/1/1", "Light", "1.001")
    room = ETS.RoomSpec("Hall")
    function = ETS.FunctionSpec("Light", "FT-1", "Hall", (("SwitchOnOff", "1/1/1"),))
    with pytest.raises(ValueError, match="ETS 6"):
        ETS.project_bytes(
            ETS.ProjectSpec("P", ets=5, addresses=(light,), rooms=(room,), functions=(function,))
        )
    unknown = ETS.FunctionSpec("Light", "FT-1", "Hall", (("SwitchOnOff", "1/1/2"),))
    with pytest.raises(ValueError, match="unknown address"):
        ETS.project_bytes(
            ETS.ProjectSpec("P", addresses=(light,), rooms=(room,), functions=(unknown,))
        )
    with pytest.raises(ValueError, match="twice"):
        ETS.project_bytes(ETS.ProjectSpec("P", addresses=(light, light)))


async def test_the_scale_project_matches_the_scale_keyrings_plan(tmp_path: Path) -> None:
    """bench/project.py: the 2,000 addresses of bench/scale.py's plan, secure as its keyring."""
    from bench import project, scale  # noqa: PLC0415 - the bench's plan, only here

    parsed = parse(project.write(tmp_path, protected=True), project.PASSWORD)
    addresses = parsed["group_addresses"]
    assert {ga: (info["name"], info["data_secure"]) for ga, info in addresses.items()} == {
        str(a.ga): (a.name, a.secure) for a in scale.PLAN.addresses
    }
    assert len(addresses) == 2000
    assert len(parsed["devices"]) == 300
    spec = project.project_spec()
    assert len(parsed["functions"]) == len(spec.functions) == 599  # one per channel
    dimmer = next(f for f in parsed["functions"].values() if f["function_type"] == "FT-6")
    assert [ref["role"] for ref in dimmer["group_addresses"].values()] == list(
        project.FUNCTIONS["dimmer"][1]
    )
