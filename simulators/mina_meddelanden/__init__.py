"""Mina meddelanden (the national digital mailbox) for tests and demos: isReachable and deliverSecure, v3.

    from brygga_simulators.mina_meddelanden import start_secure
    running, pki = start_secure(tmp_path)      # https, client certificate required, a fresh test PKI in tmp_path
    with running:
        running.base_url                       # https://127.0.0.1:PORT; ports at /Recipient/v3 and /Service/v3
        running.app.deliveries                 # what was delivered (recipients as sha256 only)
"""

from brygga_simulators.mina_meddelanden.certificates import SimulatorPki, make_test_pki, server_context
from brygga_simulators.mina_meddelanden.records import AttachmentRecord, DeliveryRecord
from brygga_simulators.mina_meddelanden.secure import start_secure
from brygga_simulators.mina_meddelanden.service import MinaMeddelandenSimulator, RecipientPort

__all__ = [
    "AttachmentRecord",
    "DeliveryRecord",
    "MinaMeddelandenSimulator",
    "RecipientPort",
    "SimulatorPki",
    "make_test_pki",
    "server_context",
    "start_secure",
]
