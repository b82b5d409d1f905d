"""The ``localwork-hero`` command and its sub-commands: one module per sub-command."""
