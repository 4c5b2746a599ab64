"""Tests of envstamp.signing."""
