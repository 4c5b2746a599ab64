"""Diffing: what differs between manifests or stamped results, ranked by what may explain a
speed gap.

* ``rules`` - the rules table (impact, category, tolerance per field pattern);
* ``model`` - the report's classes (Difference, DiffReport, ...);
* ``walk`` / ``manifests`` - two manifests walked field by field, then ranked;
* ``builds`` - an engine's build fields folded into one finding;
* ``setups`` - a results log's results grouped by the manifest they ran under;
* ``results`` - test matching, speed ratios with spread, the headline;
* ``differ`` - :func:`~envstamp.diffing.differ.diff`, two inputs in, one report out;
* ``compare`` - many inputs, the fields that vary across them.

Modules are imported on first use; rendering lives in ``envstamp.output``.
"""
