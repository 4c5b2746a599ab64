"""Reporting: stamped results read as a whole, for a person.

* ``data`` - the report's content: inputs and their signature state, setups, per-test speed
  by setup, peak memory, each setup compared with the first by ``envstamp.diffing``;
* ``svg`` / ``html`` - that content as one self-contained HTML file (inline CSS and SVG, no
  script, no network);
* ``trend`` - results ordered by llama.cpp build, the steps where a test's speed moved beyond
  its noise and what changed in the manifest at each; ``trend_render`` its text and JSON.

Pure: logs are read through ``envstamp.documents``; nothing here touches the system.
Modules are imported on first use.
"""
