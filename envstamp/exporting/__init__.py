"""Stamped results as rows for the tools people already analyse with: CSV, JSON Lines, SQLite
(with llama.cpp's own ``llama_bench`` table) and Parquet.

:mod:`.table` flattens a result and its manifest into one row (pure); :mod:`.llama_bench`
writes llama-bench's results in the layout of llama-bench's ``-o sql``; :mod:`.writers` puts
rows into files."""
