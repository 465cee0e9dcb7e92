"""The vendors' conformance kit: `brygga conformance --profile NAME --endpoint URL` (docs/vendors.md)."""
