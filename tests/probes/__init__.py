"""Tests of envstamp.probes."""
