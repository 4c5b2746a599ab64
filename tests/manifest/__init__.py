"""Tests of envstamp.manifest."""
