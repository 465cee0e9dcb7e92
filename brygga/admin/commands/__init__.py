"""The administrator's commands, one module per group: ``search`` (list, find), ``trace``, ``quarantine`` (and the
``replay`` shortcut), ``health``; ``output`` and ``times`` are what they share. ``brygga.admin.cli`` registers them."""
