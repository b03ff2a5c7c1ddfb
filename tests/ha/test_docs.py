"""README and the forms tell a newcomer the same thing about ETS and where buttons are."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
STRINGS = ROOT / "custom_components" / "knx_secure" / "strings.json"

ETS6_EXPORT = "ETS 6: open the project, then *Project* → *Security* → *Export Keyring*"
ETS5_EXPORT = "ETS 5: *Overview* → select the project → *Details* → *Security* → *Export Keyring*"


def _flat(text: str) -> str:
    """Text with every run of whitespace (markdown line breaks) as one space."""
    return re.sub(r"\s+", " ", text)


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"### {title}")
    end = text.index("\n#", start + 1)
    return _flat(text[start:end])


def test_one_keyring_export_path_in_form_and_readme() -> None:
    form = json.loads(STRINGS.read_text(encoding="utf-8"))["config"]["step"]["user"]
    readme = _flat(README.read_text(encoding="utf-8"))
    for path in (ETS6_EXPORT, ETS5_EXPORT):
        assert path in form["description"]
        assert path in readme
    # No other spelling of the menu path anywhere a user reads.
    for text in (form["description"], readme):
        assert "Export keyring" not in text
        assert "Security >" not in text


def test_readme_says_where_the_add_entity_buttons_are() -> None:
    section = _readme_section("Switches and binary sensors")
    assert "Home Assistant 2025.4 **Add switch** and **Add binary sensor** are in" in section
    assert "gateway entry's ⋮ menu" in section
    assert "newer versions show them as buttons" in section
