"""The built-in checks, one object each: ``build``, ``runs``, ``size``, ``linkage``, ``cache``, ``parity``.

Each module defines one :class:`~pytest_rustimage.checks.base.Check`: its name, what it needs (one
image, or the images of one strategy on each engine), how it runs, the JUnit properties it records,
the ``[package.metadata.rust-image]`` keys it reads, and its part of the summary and the HTML report
(:class:`~pytest_rustimage.report.parts.ReportPart`). :mod:`~pytest_rustimage.checks.registry` lists
them in order; collection, ``--rust-image-checks``, the metadata keys and the docs are derived from it.
A check fails by raising :class:`~pytest_rustimage.checks.base.CheckFailed` and has nothing to prove by
raising :class:`~pytest_rustimage.checks.base.CheckSkipped`; the pytest glue (``plugin/items.py``)
turns these into pytest outcomes. It may import the foundation modules and every layer below the
plugin (``report`` among them: the size gate and parity); never pytest, never the plugin.
"""
