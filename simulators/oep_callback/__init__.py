"""Open ePlatform IntegrationCallback stand-in: records every status, message and delivery confirmation."""

from brygga_simulators.oep_callback.service import CallbackCall, OepCallbackSimulator

__all__ = ["CallbackCall", "OepCallbackSimulator"]
