"""Tests of envstamp.capturing."""
