"""Tests of envstamp.stamping."""
