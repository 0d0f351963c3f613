"""Telling what a run measured: the size baseline and its gate, parity, the summary, JSON and HTML.

``baseline`` (the committed sizes and the gate), ``parity`` (two engines' images compared),
``image_record`` (the typed :class:`ImageRecord` of one image, and its JSON), ``records`` (records made
from what a session measured, and the JSON report), ``summary`` (a run's snapshot, merged across xdist
workers, and the end-of-run lines), ``html`` (the HTML report) and ``parts`` (the protocol by which a
check shows in the summary and the HTML report). Pure, except that ``parity`` and ``records.measure_sizes``
read facts from :class:`~pytest_rustimage.session.image.RustImage` objects and ``baseline`` reads and
writes its file. It may import the foundation modules and the layers below (``session``, ``cachecheck``,
``recipe``, ``inspect``, ``engines``, ``crate``); never ``checks`` or the pytest glue.
"""
