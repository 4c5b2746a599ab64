"""GPU probes: NVIDIA, AMD, Apple, Intel, Windows; compute runtimes; one merged GPU list."""
