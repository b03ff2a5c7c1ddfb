"""KNX Secure: KNX IP Secure tunnelling and KNX Data Secure for Home Assistant.

The KNX Secure library below (``knx/``) also runs on its own: its command line
(``python -m custom_components.knx_secure.knx``) and the virtual gateway must work
on a machine without Home Assistant, yet Python runs this file before any module of
the library. So the Home Assistant entry points are only imported when Home Assistant
is the one loading us (it has imported ``homeassistant`` long before).
"""

from __future__ import annotations

import sys

if "homeassistant" in sys.modules:
    from .integration import (
        CONFIG_SCHEMA,
        async_migrate_entry,
        async_remove_entry,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )

    __all__ = [
        "CONFIG_SCHEMA",
        "async_migrate_entry",
        "async_remove_entry",
        "async_setup",
        "async_setup_entry",
        "async_unload_entry",
    ]
