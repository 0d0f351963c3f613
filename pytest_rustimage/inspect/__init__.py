"""Reading image bytes: pure parsers of image archives, ELF files and engines' ``inspect`` output.

Nothing here talks to an engine or knows of pytest: the engines hand over raw dicts and byte streams,
and these modules turn them into frozen facts (:mod:`~pytest_rustimage.inspect.facts`), so the same
definitions (an image's size, a binary's linkage) hold for every engine. They may import only the
foundation modules (``errors``, ``names``, ``units``).
"""
