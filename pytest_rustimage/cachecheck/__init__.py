"""The layer-cache check: edit a copy of the crate, build it again, and judge the rebuild's log.

Reading build output (``buildlog``), a ``RUN`` step's shell command (``shell_tokens``,
``shell_commands``) and the cargo commands in it and where their output goes (``cargo_steps``), the
edit the probe applies (``edit``, a value), the edit kinds made from the crate (``edits``) and what
must hold for each (``matrix``), the steps that hid cargo's output (``hidden_steps``), the
pure judgement of the two builds (``assess``) into a report (``verdict``), and the probe that runs
the builds (``probe``, which sees an image only through the small protocol it declares). It may
import the foundation modules, ``crate``, ``inspect``, ``engines`` and ``recipe``; never
``session``, ``report``, ``housekeeping``, ``checks`` or the pytest glue.
"""
