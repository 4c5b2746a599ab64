"""The manifest: its data model, loading and writing, schema, redaction and secrets.

The lowest layer but ``envstamp.errors``: pure data and pure functions over it; nothing here
touches the system or imports a higher layer.  Modules are imported on first use.
"""
