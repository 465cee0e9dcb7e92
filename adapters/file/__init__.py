"""File-system adapters: an inbox folder as a source, and a drop folder as the e-archive's intake.

Relative paths in their config are resolved against ``BRYGGA_HOME``.
"""

from brygga_adapters.file.archive_folder import ArchiveFolderTarget
from brygga_adapters.file.inbox import FileInboxSource

__all__ = ["ArchiveFolderTarget", "FileInboxSource"]
