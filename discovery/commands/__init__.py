"""Sub-commands of the ``discovery`` CLI, one module per concern; wired in :mod:`discovery.cli`."""
