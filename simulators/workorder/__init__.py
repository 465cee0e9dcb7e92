"""Municipal work-order system stand-in (REST/JSON, FastAPI, OAuth2 client credentials) for felanmälan."""

from brygga_simulators.workorder.service import WorkOrderSimulator

__all__ = ["WorkOrderSimulator"]
