"""Brygga's adapters: one folder per integrated system, registered as ``brygga.adapters`` entry points."""
