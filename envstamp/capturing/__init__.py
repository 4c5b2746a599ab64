"""Capturing: :func:`~envstamp.capturing.capture.capture` runs the probes of the registry on a
pool of threads under one deadline (``pool``) and merges what they found into a manifest
(``assembly``).  Modules are imported on first use.
"""
