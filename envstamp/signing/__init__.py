"""Signing: DSSE envelopes around in-toto statements (``dsse``), signing (``sign``),
verification (``verify``) and keys (``keys``).  Modules are imported on first use.
"""
