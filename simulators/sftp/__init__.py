"""A loopback SFTP server for the tests and the demo: a partner's drop folder, or an e-archive's intake.

    from brygga_simulators.sftp import start_sftp_server
    with start_sftp_server(tmp_path, users={"partner": "pw"}) as server:
        uri = f"sftp://partner:pw@127.0.0.1:{server.port}/inbox?host_key={quote(server.host_key_line)}"

The SFTP session sees ``root`` as ``/`` (a chroot), so a test reads and writes the server's files directly there.
"""

from brygga_simulators.sftp.server import RunningSftpServer, start_sftp_server

__all__ = ["RunningSftpServer", "start_sftp_server"]
