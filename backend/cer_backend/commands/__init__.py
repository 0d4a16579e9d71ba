"""Sub-commands of ``cer-backend``, one module per area.

Each module has ``register(commands)``, which adds its sub-parsers with
``set_defaults(handler=...)``; a handler takes the parsed arguments and returns the exit code.
Raise :class:`cer_backend.commands.errors.UsageError` for a problem the user can fix: it is
printed as one line and exits 2 (never a traceback).
"""
