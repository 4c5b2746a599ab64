"""Output: text, Markdown and JSON views of what the library computed.

* ``render`` - a manifest's one-screen summary (text, Markdown) and shared formatting;
* ``diff_render`` - a diff report (text, Markdown, JSON);
* ``compare_render`` - a compare report's table (text, Markdown);
* ``results_render`` - a results log's results, setup by setup;
* ``show_json`` - ``show --json`` of a results log.

Views only read; nothing here loads, captures or signs.  Modules are imported on first use.
"""
