"""Adapters: every socket, disk, clock and third-party exception lives here."""
