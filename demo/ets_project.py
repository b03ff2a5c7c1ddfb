"""Write an ETS project file (``.knxproj``) from a plain description.

Tooling for tests, the demo and the bench, not part of the integration. It writes what ETS 4,
5 and 6 write for a project, reduced to what a project importer reads: the project's name and
group address style, group addresses (name, description, datapoint type, Data Secure flag) in
their ranges, the topology (areas, lines, devices), the buildings and rooms, and for ETS 6 the
functions with their group addresses by role. One simulated product (manufacturer M-00FA,
the KNX Association's id) stands behind every device, so the catalogue references resolve.

    spec = ProjectSpec(name="Home", ets=6, addresses=(GroupAddressSpec("1/2/3", "Light"),))
    write_project(spec, Path("Home.knxproj"))

Layout of the archive (the KNX project schema, ``http://knx.org/xml/project/NN``)::

    knx_master.xml             master data: manufacturers, space usages, function types
    P-XXXX.signature           marks the project (its name gives the project id)
    P-XXXX/project.xml         project information (ETS 4: Project.xml)
    P-XXXX/0.xml               installation 0: topology, locations, group addresses
    M-00FA/Hardware.xml        the simulated product
    M-00FA/M-00FA_A-....xml    its application program (no objects)

A protected project keeps ``project.xml`` and ``0.xml`` in an inner ``P-XXXX.zip`` instead of
the folder: ETS 4 and 5 encrypt it with the classic zip encryption under the project password;
ETS 6 with WinZip AES-256 under a password derived from the project password (PBKDF2-HMAC-SHA256
of its UTF-16-LE bytes, salt ``21.project.ets.knx.org``, 65536 rounds, 32 bytes, base64).

The output is deterministic: fixed timestamps, and the encryption's random bytes (the classic
header, the AES salt) come from a hash of the password and the file name, so regenerating a
file gives the same bytes. That is fine for test files and wrong for real secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import struct
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from xml.etree import ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

EtsVersion = Literal[4, 5, 6]
AddressStyle = Literal["ThreeLevel", "TwoLevel", "Free"]

#: The schema namespace number each ETS writes (ETS 4.1/4.2: 11, ETS 5.7: 20, ETS 6.1: 22).
SCHEMA: Final[dict[int, int]] = {4: 11, 5: 20, 6: 22}
CREATED_BY: Final[dict[int, str]] = {4: "ETS4", 5: "ETS5", 6: "ETS6"}
TOOL_VERSION: Final[dict[int, str]] = {4: "4.2.1395.0", 5: "5.7.1093.38570", 6: "6.1.5686.0"}
NAMESPACE: Final = "http://knx.org/xml/project/{schema}"
TIMESTAMP: Final = (2024, 1, 1, 0, 0, 0)  # every zip entry's date
LAST_MODIFIED: Final = "2024-01-01T00:00:00Z"
MANUFACTURER: Final = "M-00FA"
MANUFACTURER_NAME: Final = "KNX Association"
HARDWARE: Final = f"{MANUFACTURER}_H-0001-1"
PRODUCT: Final = f"{HARDWARE}_P-SIM.2D1"
APPLICATION: Final = f"{MANUFACTURER}_A-0001-01-0000"
HARDWARE_PROGRAM: Final = f"{HARDWARE}_HP-0001-01-0000"
PRODUCT_NAME: Final = "Simulated KNX device"
ETS6_SALT: Final = b"21.project.ets.knx.org"

#: Function types of ETS 6's master data that the fixtures use (the id is what a project
#: stores; the text is the English name ETS shows).
FUNCTION_TYPES: Final[dict[str, str]] = {
    "FT-0": "Custom",
    "FT-1": "Switchable light",
    "FT-6": "Dimmable light",
    "FT-7": "Sun protection",
    "FT-9": "Heating",
}
#: Space usages of the master data (a room's kind).
SPACE_USAGES: Final[dict[str, str]] = {
    "SU-1": "Hall",
    "SU-3": "Kitchen",
    "SU-4": "Living room",
    "SU-6": "Bathroom",
    "SU-9": "Garage",
    "SU-10": "Outside",
}


@dataclass(frozen=True)
class GroupAddressSpec:
    """A group address: "1/2/3" (three levels), "1/515" (two levels) or "2307" (free)."""

    address: str
    name: str
    dpt: str | None = None  # "9.001", or "9" for the main number only
    description: str = ""
    secure: bool = False


@dataclass(frozen=True)
class DeviceSpec:
    """A device of the topology, by individual address ("1.1.7")."""

    address: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class FunctionSpec:
    """An ETS 6 function in a room: its type ("FT-1"), name and (role, group address) pairs."""

    name: str
    function_type: str
    room: str
    addresses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RoomSpec:
    """A room of the building: its name, usage ("SU-4") and the devices mounted in it."""

    name: str
    usage: str | None = None
    devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectSpec:
    """Everything a written project holds."""

    name: str
    ets: EtsVersion = 6
    style: AddressStyle = "ThreeLevel"
    project_id: str = "P-0A1B"  # "P-" and four hex digits, as ETS numbers projects
    addresses: tuple[GroupAddressSpec, ...] = ()
    devices: tuple[DeviceSpec, ...] = ()
    area_names: dict[str, str] = field(default_factory=dict)  # {"1": "House"}
    line_names: dict[str, str] = field(default_factory=dict)  # {"1.1": "Main line"}
    range_names: dict[str, str] = field(default_factory=dict)  # {"1": "Secure", "1/2": "Lights"}
    building: str = ""  # the building's name (the project's name when empty)
    rooms: tuple[RoomSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()  # ETS 6 only
    password: str | None = None  # protect the project with this password
    schema: int | str | None = None  # the namespace's last part; SCHEMA[ets] when None


def write_project(spec: ProjectSpec, path: Path) -> None:
    """Write ``spec`` as a ``.knxproj`` file at ``path``."""
    path.write_bytes(project_bytes(spec))


def project_bytes(spec: ProjectSpec) -> bytes:
    """The ``.knxproj`` file of ``spec``."""
    _check(spec)
    schema = spec.schema if spec.schema is not None else SCHEMA[spec.ets]
    header = _Header(NAMESPACE.format(schema=schema), CREATED_BY[spec.ets], TOOL_VERSION[spec.ets])
    project_name = "Project.xml" if spec.ets == 4 else "project.xml"
    inner = {
        project_name: _project_information(spec, header),
        "0.xml": _installation(spec, header),
    }
    entries: list[tuple[str, bytes]] = [
        ("knx_master.xml", _master_data(header)),
        (f"{spec.project_id}.signature", _signature(spec)),
    ]
    if spec.password is None:
        entries += [(f"{spec.project_id}/{name}", data) for name, data in inner.items()]
    else:
        entries.append((f"{spec.project_id}.zip", _protected(spec, inner)))
    entries += [
        (f"{MANUFACTURER}/Hardware.xml", _hardware(header)),
        (f"{MANUFACTURER}/{APPLICATION}.xml", _application(header)),
    ]
    return zip_bytes(entries)


def ets6_zip_password(password: str) -> bytes:
    """The inner archive's password of a protected ETS 6 project."""
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-16-le"), ETS6_SALT, 65536, 32)
    return base64.b64encode(key)


def group_address_number(address: str) -> int:
    """The 16-bit number of "1/2/3", "1/515" or "2307" (what the project stores)."""
    parts = [int(part) for part in address.split("/")]
    if len(parts) == 3:
        main, middle, sub = parts
        number = (main << 11) | (middle << 8) | sub
        valid = main < 32 and middle < 8 and sub < 256
    elif len(parts) == 2:
        main, sub = parts
        number = (main << 11) | sub
        valid = main < 32 and sub < 2048
    else:
        number = parts[0]
        valid = True
    if not valid or not 0 < number < 0x10000:
        raise ValueError(f"not a group address: {address!r}")
    return number


def dpt_attribute(dpt: str) -> str:
    """ETS's form of a datapoint type: "9.001" -> "DPST-9-1", "9" -> "DPT-9"."""
    main, _, sub = dpt.partition(".")
    return f"DPST-{int(main)}-{int(sub)}" if sub else f"DPT-{int(main)}"


# --- checks -------------------------------------------------------------------------------


def _check(spec: ProjectSpec) -> None:
    if spec.functions and spec.ets != 6:
        raise ValueError("functions exist in ETS 6 projects only")
    numbers = [group_address_number(ga.address) for ga in spec.addresses]
    if len(set(numbers)) != len(numbers):
        raise ValueError("a group address is listed twice")
    known = {ga.address for ga in spec.addresses}
    rooms = {room.name for room in spec.rooms}
    devices = {device.address for device in spec.devices}
    for function in spec.functions:
        if function.room not in rooms:
            raise ValueError(f"function {function.name!r} is in an unknown room")
        for _role, address in function.addresses:
            if address not in known:
                raise ValueError(f"function {function.name!r} names unknown address {address}")
    for room in spec.rooms:
        if not set(room.devices) <= devices:
            raise ValueError(f"room {room.name!r} names an unknown device")


# --- XML ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    namespace: str
    created_by: str
    tool_version: str


def _root(header: _Header) -> ET.Element:
    return ET.Element(
        "KNX",
        {
            "xmlns": header.namespace,
            "CreatedBy": header.created_by,
            "ToolVersion": header.tool_version,
        },
    )


def _xml(root: ET.Element) -> bytes:
    """The document with the declaration on line 1 and the namespace on line 2, as ETS does."""
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _master_data(header: _Header) -> bytes:
    root = _root(header)
    master = ET.SubElement(root, "MasterData", Version="0", Signature="")
    usages = ET.SubElement(master, "SpaceUsages")
    for identifier, text in SPACE_USAGES.items():
        ET.SubElement(usages, "SpaceUsage", Id=identifier, Text=text)
    manufacturers = ET.SubElement(master, "Manufacturers")
    ET.SubElement(
        manufacturers,
        "Manufacturer",
        Id=MANUFACTURER,
        Name=MANUFACTURER_NAME,
        KnxManufacturerId="250",
        DefaultLanguage="en-US",
    )
    languages = ET.SubElement(master, "ProductLanguages")
    ET.SubElement(languages, "Language", Identifier="en-US")
    ET.SubElement(languages, "Language", Identifier="de-DE")
    types = ET.SubElement(master, "FunctionTypes")
    for identifier, text in FUNCTION_TYPES.items():
        ET.SubElement(types, "FunctionType", Id=identifier, Text=text)
    return _xml(root)


def _signature(spec: ProjectSpec) -> bytes:
    # ETS signs the project; no importer checks it, and ours is marked as not ETS's.
    return f"knx-secure test project {spec.project_id}: not signed by ETS\n".encode()


def _project_information(spec: ProjectSpec, header: _Header) -> bytes:
    root = _root(header)
    project = ET.SubElement(root, "Project", Id=spec.project_id)
    ET.SubElement(
        project,
        "ProjectInformation",
        Name=spec.name,
        GroupAddressStyle=spec.style,
        LastModified=LAST_MODIFIED,
        ProjectStart=LAST_MODIFIED,
        Guid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"knx-secure:{spec.project_id}:{spec.name}")),
    )
    return _xml(root)


class _Ids:
    """ETS's element ids (``P-0A1B-0_GA-7``) and project-unique numbers (Puid)."""

    def __init__(self, project_id: str) -> None:
        self.prefix = f"{project_id}-0"
        self._puid = 0

    def puid(self) -> str:
        self._puid += 1
        return str(self._puid)

    def of(self, kind: str, number: int) -> str:
        return f"{self.prefix}_{kind}-{number}"


def _installation(spec: ProjectSpec, header: _Header) -> bytes:
    ids = _Ids(spec.project_id)
    root = _root(header)
    project = ET.SubElement(root, "Project", Id=spec.project_id)
    installations = ET.SubElement(project, "Installations")
    installation = ET.SubElement(
        installations, "Installation", Name="", InstallationId="0", BCUKey="4294967295"
    )
    device_ids = _topology(ET.SubElement(installation, "Topology"), spec, ids)
    ga_ids = {ga.address: ids.of("GA", n) for n, ga in enumerate(spec.addresses, start=1)}
    if spec.rooms:
        tag = "Buildings" if spec.ets == 4 else "Locations"
        _locations(ET.SubElement(installation, tag), spec, ids, device_ids, ga_ids)
    _group_addresses(ET.SubElement(installation, "GroupAddresses"), spec, ids, ga_ids)
    return _xml(root)


def _topology(topology: ET.Element, spec: ProjectSpec, ids: _Ids) -> dict[str, str]:
    """Areas, lines and devices; returns each device's element id by individual address."""
    by_line: dict[tuple[int, int], list[tuple[int, DeviceSpec]]] = {}
    for device in spec.devices:
        area, line, number = (int(part) for part in device.address.split("."))
        by_line.setdefault((area, line), []).append((number, device))
    device_ids: dict[str, str] = {}
    areas: dict[int, ET.Element] = {}
    for (area, line), members in sorted(by_line.items()):
        if area not in areas:
            areas[area] = ET.SubElement(
                topology,
                "Area",
                Id=ids.of("A", area + 1),
                Name=spec.area_names.get(str(area), f"Area {area}"),
                Address=str(area),
                Puid=ids.puid(),
            )
        line_element = ET.SubElement(
            areas[area],
            "Line",
            Id=ids.of("L", (area << 4 | line) + 1),
            Name=spec.line_names.get(f"{area}.{line}", f"Line {area}.{line}"),
            Address=str(line),
            Puid=ids.puid(),
        )
        holder = line_element
        if spec.ets == 6:
            holder = ET.SubElement(
                line_element, "Segment", Id=f"{line_element.get('Id')}-0", MediumTypeRefId="MT-0"
            )
        else:
            line_element.set("MediumTypeRefId", "MT-0")
        for number, device in sorted(members, key=lambda member: member[0]):
            identifier = ids.of("DI", len(device_ids) + 1)
            device_ids[device.address] = identifier
            attributes = {
                "Id": identifier,
                "Name": device.name,
                "Address": str(number),
                "ProductRefId": PRODUCT,
                "Hardware2ProgramRefId": HARDWARE_PROGRAM,
                "Puid": ids.puid(),
                "LastModified": LAST_MODIFIED,
            }
            if device.description:
                attributes["Description"] = device.description
            ET.SubElement(holder, "DeviceInstance", attributes)
    return device_ids


def _locations(
    locations: ET.Element,
    spec: ProjectSpec,
    ids: _Ids,
    device_ids: dict[str, str],
    ga_ids: dict[str, str],
) -> None:
    tag = "BuildingPart" if spec.ets == 4 else "Space"
    building = ET.SubElement(
        locations,
        tag,
        Type="Building",
        Id=ids.of("BP", 1),
        Name=spec.building or spec.name,
        Puid=ids.puid(),
    )
    functions = 0
    for number, room in enumerate(spec.rooms, start=2):
        attributes = {"Type": "Room", "Id": ids.of("BP", number), "Name": room.name}
        if room.usage is not None and spec.ets != 4:
            attributes["Usage"] = room.usage
        attributes["Puid"] = ids.puid()
        element = ET.SubElement(building, tag, attributes)
        for device in room.devices:
            ET.SubElement(element, "DeviceInstanceRef", RefId=device_ids[device])
        for function in (f for f in spec.functions if f.room == room.name):
            functions += 1
            _function(element, function, ids, ids.of("F", functions), ga_ids)


def _function(
    room: ET.Element, function: FunctionSpec, ids: _Ids, identifier: str, ga_ids: dict[str, str]
) -> None:
    element = ET.SubElement(
        room,
        "Function",
        Id=identifier,
        Name=function.name,
        Type=function.function_type,
        Puid=ids.puid(),
    )
    for number, (role, address) in enumerate(function.addresses, start=1):
        ET.SubElement(
            element,
            "GroupAddressRef",
            Id=f"{identifier}_GR-{number}",
            RefId=ga_ids[address],
            Name="",
            Role=role,
            Puid=ids.puid(),
        )


def _group_addresses(
    holder: ET.Element, spec: ProjectSpec, ids: _Ids, ga_ids: dict[str, str]
) -> None:
    """The addresses inside their main (and, with three levels, middle) ranges."""
    ranges = ET.SubElement(holder, "GroupRanges")
    ordered = sorted(spec.addresses, key=lambda ga: group_address_number(ga.address))
    elements: dict[tuple[int, ...], ET.Element] = {}
    counter = 0
    for ga in ordered:
        number = group_address_number(ga.address)
        parent = ranges
        for key, start, end, default in _ranges_of(number, spec.style):
            if key not in elements:
                counter += 1
                label = "/".join(str(part) for part in key)
                elements[key] = ET.SubElement(
                    parent,
                    "GroupRange",
                    Id=ids.of("GR", counter),
                    RangeStart=str(start),
                    RangeEnd=str(end),
                    Name=spec.range_names.get(label, default),
                    Puid=ids.puid(),
                )
            parent = elements[key]
        attributes = {
            "Id": ga_ids[ga.address],
            "Address": str(number),
            "Name": ga.name,
        }
        if ga.description:
            attributes["Description"] = ga.description
        if ga.dpt:
            attributes["DatapointType"] = dpt_attribute(ga.dpt)
        if ga.secure:
            attributes["Key"] = _stand_in_key(spec, ga.address)
        attributes["Puid"] = ids.puid()
        ET.SubElement(parent, "GroupAddress", attributes)


def _ranges_of(number: int, style: AddressStyle) -> list[tuple[tuple[int, ...], int, int, str]]:
    """(key, first, last, default name) of the ranges holding ``number``, outermost first."""
    main, middle = number >> 11, (number >> 8) & 0x7
    main_range = ((main,), main << 11, (main << 11) | 0x7FF, f"Main group {main}")
    if style == "ThreeLevel":
        start = (main << 11) | (middle << 8)
        return [main_range, ((main, middle), start, start | 0xFF, f"Middle group {main}/{middle}")]
    if style == "TwoLevel":
        return [main_range]
    return [((0,), 1, 0xFFFF, "Addresses")]


def _stand_in_key(spec: ProjectSpec, address: str) -> str:
    # ETS stores the group key here; only its presence matters to an importer (the keyring
    # holds the real keys), so the fixture holds a derived stand-in, not a key in use.
    return base64.b64encode(
        hashlib.sha256(f"{spec.project_id}:{address}".encode()).digest()[:16]
    ).decode()


def _manufacturer_document(header: _Header, section: str) -> tuple[ET.Element, ET.Element]:
    """A manufacturer file's root and its ``section`` (Hardware, ApplicationPrograms)."""
    root = _root(header)
    data = ET.SubElement(root, "ManufacturerData")
    manufacturer = ET.SubElement(data, "Manufacturer", RefId=MANUFACTURER)
    return root, ET.SubElement(manufacturer, section)


def _hardware(header: _Header) -> bytes:
    root, hardware_list = _manufacturer_document(header, "Hardware")
    hardware = ET.SubElement(
        hardware_list,
        "Hardware",
        Id=HARDWARE,
        Name=PRODUCT_NAME,
        SerialNumber="0001",
        VersionNumber="1",
        BusCurrent="10",
        HasIndividualAddress="true",
        HasApplicationProgram="true",
    )
    products = ET.SubElement(hardware, "Products")
    ET.SubElement(
        products,
        "Product",
        Id=PRODUCT,
        Text=PRODUCT_NAME,
        OrderNumber="SIM-1",
        IsRailMounted="false",
        DefaultLanguage="en-US",
    )
    programs = ET.SubElement(hardware, "Hardware2Programs")
    program = ET.SubElement(programs, "Hardware2Program", Id=HARDWARE_PROGRAM, MediumTypes="MT-0")
    ET.SubElement(program, "ApplicationProgramRef", RefId=APPLICATION)
    return _xml(root)


def _application(header: _Header) -> bytes:
    root, programs = _manufacturer_document(header, "ApplicationPrograms")
    program = ET.SubElement(
        programs,
        "ApplicationProgram",
        Id=APPLICATION,
        Name=PRODUCT_NAME,
        ApplicationNumber="1",
        ApplicationVersion="1",
        ProgramType="ApplicationProgram",
        MaskVersion="MV-07B0",
        DefaultLanguage="en-US",
    )
    static = ET.SubElement(program, "Static")
    ET.SubElement(static, "ComObjectTable")
    return _xml(root)


# --- zip ------------------------------------------------------------------------------------


def zip_bytes(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``entries`` with fixed dates and attributes (the same bytes each run)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, data)
    return out.getvalue()


def _protected(spec: ProjectSpec, inner: dict[str, bytes]) -> bytes:
    assert spec.password is not None
    if spec.ets == 6:
        return _encrypted_zip(inner, _AesEntry(ets6_zip_password(spec.password)))
    return _encrypted_zip(inner, _ZipCryptoEntry(spec.password.encode("utf-8")))


class _ZipCryptoEntry:
    """The classic (PKWARE) zip encryption of one entry."""

    method = 8
    version = 20

    def __init__(self, password: bytes) -> None:
        self.password = password

    def extra(self) -> bytes:
        return b""

    def crc(self, data: bytes) -> int:
        return zlib.crc32(data)

    def seal(self, name: str, data: bytes, compressed: bytes) -> bytes:
        keys = _ZipCryptoKeys(self.password)
        header = _fixed_random(self.password, name, 11) + bytes([zlib.crc32(data) >> 24])
        return keys.encrypt(header + compressed)


class _ZipCryptoKeys:
    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = _crc_byte(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray(len(data))
        for index, plain in enumerate(data):
            temp = (self.keys[2] | 2) & 0xFFFF
            out[index] = plain ^ (((temp * (temp ^ 1)) >> 8) & 0xFF)
            self._update(plain)
        return bytes(out)


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xEDB88320 if value & 1 else value >> 1
        table.append(value)
    return table


_CRC_TABLE: Final = _crc_table()


def _crc_byte(crc: int, byte: int) -> int:
    return (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]


class _AesEntry:
    """WinZip AES-256 (AE-2) encryption of one entry: method 99, the real method in an extra."""

    method = 99
    version = 51

    def __init__(self, password: bytes) -> None:
        self.password = password

    def extra(self) -> bytes:
        # header 0x9901, 7 bytes: version AE-2, vendor "AE", strength 3 (256 bits), deflate
        return struct.pack("<HHH2sBH", 0x9901, 7, 2, b"AE", 3, 8)

    def crc(self, data: bytes) -> int:
        return 0  # AE-2 leaves the CRC out (the MAC authenticates)

    def seal(self, name: str, data: bytes, compressed: bytes) -> bytes:
        salt = _fixed_random(self.password, name, 16)
        material = hashlib.pbkdf2_hmac("sha1", self.password, salt, 1000, 66)
        key, mac_key, verifier = material[:32], material[32:64], material[64:]
        blocks = (len(compressed) + 15) // 16
        counters = b"".join(n.to_bytes(16, "little") for n in range(1, blocks + 1))
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - CTR by hand
        stream = encryptor.update(counters) + encryptor.finalize()
        sealed = bytes(a ^ b for a, b in zip(compressed, stream, strict=False))
        mac = hmac.new(mac_key, sealed, "sha1").digest()[:10]
        return salt + verifier + sealed + mac


def _fixed_random(password: bytes, name: str, size: int) -> bytes:
    # Deterministic "random" bytes so the file is the same on every run (test files only).
    return hashlib.sha256(b"knx-secure fixture\0" + password + b"\0" + name.encode()).digest()[
        :size
    ]


def _encrypted_zip(files: dict[str, bytes], entry: _ZipCryptoEntry | _AesEntry) -> bytes:
    """A zip whose entries are encrypted (Python's zipfile writes no encryption)."""
    out = bytearray()
    central = bytearray()
    dos_time = (TIMESTAMP[3] << 11) | (TIMESTAMP[4] << 5) | (TIMESTAMP[5] // 2)
    dos_date = ((TIMESTAMP[0] - 1980) << 9) | (TIMESTAMP[1] << 5) | TIMESTAMP[2]
    for name, data in files.items():
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        compressed = compressor.compress(data) + compressor.flush()
        sealed = entry.seal(name, data, compressed)
        raw_name, extra, crc = name.encode(), entry.extra(), entry.crc(data)
        fields = (entry.version, 1, entry.method, dos_time, dos_date, crc, len(sealed), len(data))
        offset = len(out)
        out += struct.pack("<IHHHHHIII", 0x04034B50, *fields)
        out += struct.pack("<HH", len(raw_name), len(extra)) + raw_name + extra + sealed
        central += struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIII", *fields)
        central += struct.pack("<HHHHHII", len(raw_name), len(extra), 0, 0, 0, 0, offset)
        central += raw_name + extra
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(files), len(files), len(central), len(out), 0
    )
    return bytes(out + central + end)
