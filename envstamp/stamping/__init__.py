"""Stamping: timings recorded under a manifest into a signed, hash-chained results log.

* ``timing`` - :class:`~envstamp.stamping.timing.Recorder`, timers and ``@timed``;
* ``results`` - the result record, the results log (writing, verifying, loading);
* ``chainlog`` - the hash chain's line format;
* ``sampler`` - memory peaks during a region, volatile state around it;
* ``advice`` - notes on a setup that skews timings, printed once;
* ``run_argv`` - what a wrapped command's arguments say (``envstamp run``);
* ``pytest_plugin`` - stamped test durations under ``pytest --envstamp``.

Modules are imported on first use.
"""
