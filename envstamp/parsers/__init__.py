"""Parsers: pure text -> data, one module per format, and the parse-kinds registry (``kinds``).

Nothing here touches the system or imports the runner: a parser is given the text a tool
printed (or a file held) and returns typed manifest sections, or raises
:class:`envstamp.errors.ParseError`.  Probes call these; so does ``envstamp parse``.
Modules are imported on first use.
"""
