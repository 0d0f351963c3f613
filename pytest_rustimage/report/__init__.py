"""Telling what a run measured: the size baseline and its gate, parity, the summary, JSON and HTML.

``baseline`` (the committed sizes and the gate), ``parity`` (two engines' images compared),
``summary`` (a run's facts as plain data, merged across xdist workers, and the end-of-run lines),
``records`` (the JSON report) and ``html`` (the HTML report). Pure, except that ``parity`` and
``records`` read facts from :class:`~pytest_rustimage.session.image.RustImage` objects and ``baseline``
reads and writes its file. It may import the foundation modules and ``build``, ``inspect``,
``engines``, ``crate``; never the pytest glue.
"""
