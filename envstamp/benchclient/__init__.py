"""``envstamp bench URL``: one benchmark client for every local inference server.

* ``apis`` - what each server API is asked and how its stream is read (pure);
* ``detect`` - which server answers, from what it says on a few GET routes (pure);
* ``prompts`` - synthetic prompts of given token lengths (pure);
* ``figures`` - per-request figures and per-level statistics (pure);
* ``provenance`` - what served the benchmark, as manifest sections (pure);
* ``session`` - asking the server through the runner (detection, provenance, the requests,
  the concurrency sweep);
* ``stamp`` - the manifest with the server's provenance, and the stamped results.

Only the runner touches the network (``envstamp.runner.streaming``).
"""
