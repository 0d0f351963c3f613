"""The layer-cache check: edit a copy of the crate, build it again, and judge the rebuild's log.

Reading build output (``buildlog``), reading a ``RUN`` step's shell command for cargo and where its
output goes (``cargo_steps``), the pure verdict (``verdict``) and the probe that runs the builds
(``probe``, which sees an image only through the small protocol it declares). It may import the
foundation modules, ``crate``, ``inspect``, ``engines`` and ``recipe``; never ``session``,
``report``, ``housekeeping``, ``checks`` or the pytest glue.
"""
