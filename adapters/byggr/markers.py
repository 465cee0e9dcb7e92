"""Where the ByggR adapter finds its markers: in a handelse's ``anteckning``.

``brygga-ref:<extern_ref>`` (``brygga_adapters.markers``) marks the handelse that carries a submission's documents
(on the v4 contract it is also the only way to find the case again); ``brygga-ref:<extern_ref>#<revision>`` marks
an amendment's handelse. The text before an amendment's marker is ``brygga_adapters.documents.amendment_note``.
"""

from __future__ import annotations

from brygga_adapters.byggr.replies import ArendeSummary
from brygga_adapters.markers import carries_marker


def marked_handelse_exists(arende: ArendeSummary, marker: str) -> bool:
    return any(carries_marker(handelse.anteckning, marker) for handelse in arende.handelser)
