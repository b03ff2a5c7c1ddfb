"""strings.json is the source; translations/en.json is it with every reference resolved.

Run this module to write en.json again after changing strings.json:

    .venv/bin/python -m tests.ha.test_translations
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import homeassistant

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "knx_secure"
STRINGS = INTEGRATION / "strings.json"
EN = INTEGRATION / "translations" / "en.json"
HA_ROOT = Path(homeassistant.__file__).parent
REFERENCE = re.compile(r"\[%key:([a-z0-9_:]+)%\]")


def _strings_of(path: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The strings file a reference starts in, and the keys to follow in it.

    ``common::a::b`` is HA's own strings.json (top-level key "common");
    ``component::<domain>::a::b`` is that component's strings.json (ours for knx_secure).
    """
    if path[0] == "common":
        source, keys = HA_ROOT / "strings.json", path
    elif path[1] == "knx_secure":
        source, keys = STRINGS, path[2:]
    else:
        source, keys = HA_ROOT / "components" / path[1] / "strings.json", path[2:]
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return data, keys


def _lookup(key: str) -> str:
    node, keys = _strings_of(key.split("::"))
    for part in keys:
        node = node[part]
    if not isinstance(node, str):
        raise TypeError(f"{key} is not a string")
    return _resolve_text(node)


def _resolve_text(text: str) -> str:
    return REFERENCE.sub(lambda match: _lookup(match.group(1)), text)


def _resolve(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _resolve(value) for key, value in node.items()}
    if isinstance(node, str):
        return _resolve_text(node)
    return node


def resolved_strings() -> dict[str, Any]:
    """strings.json with every [%key:...%] reference replaced by its text."""
    data: dict[str, Any] = _resolve(json.loads(STRINGS.read_text(encoding="utf-8")))
    return data


def _leaves(node: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(node, dict):
        leaves: dict[tuple[str, ...], Any] = {}
        for key, value in node.items():
            leaves.update(_leaves(value, (*path, key)))
        return leaves
    return {path: node}


def test_en_json_is_strings_json_resolved() -> None:
    """Our own references resolve exactly; Home Assistant's common texts change between
    versions, so there en.json needs only some text (written from the installed version)."""
    source = _leaves(json.loads(STRINGS.read_text(encoding="utf-8")))
    written = _leaves(json.loads(EN.read_text(encoding="utf-8")))
    resolved = _leaves(resolved_strings())
    assert set(written) == set(source), "en.json and strings.json have other keys"
    for key, text in source.items():
        own = all(ref.startswith("component::knx_secure::") for ref in REFERENCE.findall(text))
        if own:
            assert written[key] == resolved[key], (
                f"{'/'.join(key)}: run .venv/bin/python -m tests.ha.test_translations"
            )
        else:
            assert written[key], key
            assert "[%key:" not in written[key], key


if __name__ == "__main__":
    EN.write_text(
        json.dumps(resolved_strings(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
