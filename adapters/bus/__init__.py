"""The message bus as a route's source (``BusSource``): one submission per message on the route's queue.

See README.md beside this file, and docs/events.md for what Brygga publishes.
"""

from brygga_adapters.bus.source import BusSource

__all__ = ["BusSource"]
