"""scripts/develop's Home Assistant configuration: what a newcomer makes in the UI runs.

The automation, script and scene editors save to automations.yaml, scripts.yaml and
scenes.yaml; Home Assistant loads them only where configuration.yaml includes them, and does
not start when an included file is missing (scripts/develop creates them).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGURATION = REPO / "config" / "configuration.yaml"
DEVELOP = REPO / "scripts" / "develop"


def includes() -> dict[str, str]:
    """Top-level key -> the file configuration.yaml includes for it."""
    return dict(re.findall(r"^(\w+): !include (\S+)$", CONFIGURATION.read_text(), re.MULTILINE))


def test_the_ui_editors_files_are_included() -> None:
    assert includes() == {
        "automation": "automations.yaml",
        "script": "scripts.yaml",
        "scene": "scenes.yaml",
    }


def test_develop_creates_every_included_file() -> None:
    script = DEVELOP.read_text()
    missing = [name for name in includes().values() if f"[ -e config/{name} ] ||" not in script]
    assert not missing, f"scripts/develop does not create {missing}"
