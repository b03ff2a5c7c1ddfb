"""The library stands on its own: no Home Assistant import, only stdlib and cryptography."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "custom_components" / "knx_secure" / "knx"
ROOT = LIBRARY.parents[2]

# Load every library module with `homeassistant` made unimportable and the HA package
# `custom_components.knx_secure` replaced by a bare namespace, so its __init__ never runs.
_PROBE = """
import importlib, pkgutil, sys, types
before = set(sys.modules)  # what the interpreter loaded at start-up (site, sitecustomize)

class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "homeassistant" or name.startswith("homeassistant."):
            raise ImportError("library imported " + name)
        return None

sys.meta_path.insert(0, _Block())
for name, path in (("custom_components", "custom_components"),
                   ("custom_components.knx_secure", "custom_components/knx_secure")):
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
import custom_components.knx_secure.knx as lib
for info in pkgutil.iter_modules(lib.__path__):
    importlib.import_module(lib.__name__ + "." + info.name)
third_party = sorted({
    m.split(".")[0] for m in set(sys.modules) - before
    if m.split(".")[0] not in sys.stdlib_module_names
    and not m.startswith(("custom_components", "__main__", "__editable__"))
})
print(" ".join(third_party))
"""


def test_library_modules_import_without_home_assistant() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # cryptography loads its native bindings (and bcrypt, optionally) itself; nothing else.
    allowed = {"cryptography", "_cffi_backend", "_openssl", "cffi", "bcrypt"}
    assert set(result.stdout.split()) <= allowed, result.stdout


def test_no_source_file_mentions_homeassistant_imports() -> None:
    offenders = []
    for path in sorted(LIBRARY.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "homeassistant"]
    assert not offenders
