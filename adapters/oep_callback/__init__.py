"""Open ePlatform's IntegrationCallback as a Brygga status notifier (SOAP)."""

from brygga_adapters.oep_callback.notifier import CONFIG_SPEC, OepCallbackNotifier

__all__ = ["CONFIG_SPEC", "OepCallbackNotifier"]
