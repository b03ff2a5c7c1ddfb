"""KNX Secure library: KNXnet/IP Secure tunnelling, KNX Data Secure and ETS keyrings.

Sans-I/O core (frames, crypto, keyring, state machines) plus a thin asyncio edge
(client and virtual gateway). It never imports Home Assistant.
"""
