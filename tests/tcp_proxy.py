"""A TCP proxy a test can cut: the network between a desk and the database server.

`stop()` closes the listening socket and every open connection at once (the desk sees the
server vanish mid-session, and new connections are refused); `start()` listens again on
the same port, as when the network comes back.

`cut_after_commit()` arms a nastier fault: the next COMMIT a desk sends reaches the server,
the server commits and answers, and the answer is thrown away as every connection is cut.
The desk cannot know whether its change was saved.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._commit_trap: threading.Event | None = None  # armed: cut after the next COMMIT
        self._stop_on_cut = False
        self._muted: set[socket.socket] = set()  # server sockets whose answers are dropped
        self._after = b""
        self._primed: set[socket.socket] = set()  # client sockets that sent `_after`
        self.cuts = 0

    def cut_after_commit(self, *, after: bytes = b"", stay_down: bool = False) -> None:
        """Let the next COMMIT reach the server, drop its answer and cut every connection.

        `after`: only a COMMIT on a connection that sent these bytes first (say, a table
        name). With `stay_down`, new connections are refused too until `start()`.
        """
        self._stop_on_cut = stay_down
        self._after = after.upper()
        self._primed.clear()
        self._commit_trap = threading.Event()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Cut everything: the listener and every connection through it."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _cut(self) -> None:
        self.cuts += 1
        self._commit_trap = None
        self._muted.clear()
        if self._stop_on_cut:
            self.stop()
            return
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if source in self._muted:  # the server's answer to the COMMIT: lost
                    self._cut()
                    return
                trap = self._commit_trap
                if trap is not None and not trap.is_set():
                    upper = data.upper()
                    if self._after in upper:
                        self._primed.add(source)
                    if source in self._primed and b"COMMIT" in upper:
                        trap.set()
                        self._muted.add(sink)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
