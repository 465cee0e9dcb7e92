"""Pushed submissions: an HMAC-signed JSON webhook (``create_app``) and its route source (``WebhookSource``).

See README.md beside this file for how a platform calls it.
"""

from brygga_adapters.webhook.app import SubmissionAccepted, create_app
from brygga_adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from brygga_adapters.webhook.source import WebhookSource

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SubmissionAccepted", "WebhookSource", "create_app", "sign"]
