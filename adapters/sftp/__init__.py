"""SFTP adapters: a partner's drop folder as a source (``sftp-inbox``), and an e-archive's SFTP intake as the
archive target (``sftp-archive``). paramiko is the client; host key checking is always on. See README.md.
"""

from brygga_adapters.sftp.archive import SftpArchiveTarget
from brygga_adapters.sftp.inbox import SftpInboxSource
from brygga_adapters.sftp.session import HostKeyMismatch

__all__ = ["HostKeyMismatch", "SftpArchiveTarget", "SftpInboxSource"]
