"""Tests of envstamp.diffing."""
