"""Open ePlatform's IntegrationCallback as a Brygga status notifier (SOAP), in its upstream and Sundsvall variants."""

from brygga_adapters.oep_callback.flow_instance import flow_instance_id
from brygga_adapters.oep_callback.notifier import CONFIG_SPEC, OepCallbackNotifier
from brygga_adapters.oep_callback.variants import VARIANTS

__all__ = ["CONFIG_SPEC", "VARIANTS", "OepCallbackNotifier", "flow_instance_id"]
