"""Loaded by every Python process of the offline test (via PYTHONPATH): any network use raises.

Unix-domain sockets stay allowed: they never leave the machine, and multiprocessing's forkserver (chosen
when a loaded library has started threads) talks to its workers through one.
"""

import socket


class NetworkBlocked(RuntimeError):
    pass


def _blocked(*args, **kwargs):
    raise NetworkBlocked(f"network access attempted: {args[1:] if args else kwargs}")


def _guard(method):
    def guarded(self, *args, **kwargs):
        if self.family == socket.AF_UNIX:
            return method(self, *args, **kwargs)
        return _blocked(self, *args, **kwargs)

    return guarded


socket.socket.connect = _guard(socket.socket.connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _guard(socket.socket.connect_ex)  # type: ignore[method-assign]
socket.socket.sendto = _guard(socket.socket.sendto)  # type: ignore[method-assign]
socket.create_connection = _blocked  # type: ignore[assignment]
socket.getaddrinfo = _blocked  # type: ignore[assignment]
