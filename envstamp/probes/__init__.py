"""Probes: the glue between the runner and the parsers, one module per subject.

* ``context`` - what a probe is given (:class:`~envstamp.probes.context.ProbeContext`, the
  capture's options) and returns (:class:`~envstamp.probes.context.Outcome`);
* ``registry`` - every probe by name, with where its function lives and when it applies;
* ``system/`` - host, OS, CPU, memory, Python, environment, power, state of the moment;
* ``gpu/`` - one module per vendor or API, the compute runtimes, and the merged GPU list;
* ``llm/`` - llama.cpp builds, frontends and engines, model files.

A probe asks ``ctx.runner`` for commands, files and APIs and hands the answers to pure
functions (``envstamp.parsers``).  Modules are imported when a capture needs them.
"""
