"""End to end: real tools, real outputs, the docs' examples."""
