"""Tests of envstamp.runner."""
