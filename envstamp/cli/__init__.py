"""The command line: ``main`` parses the verb and dispatches; one module per verb
(``configure(parser)`` and ``run(args) -> int``); ``shared`` holds the flags and the input and
output helpers they share.  Reading ``-`` from stdin happens here only.

The top layer: nothing in the library imports it.  Only the verb being run is imported, so
``envstamp --help`` and every command start fast.
"""
