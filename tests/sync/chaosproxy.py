"""A small TCP proxy in front of PostgreSQL that cuts connections at a chosen COMMIT.

    with ChaosProxy(("127.0.0.1", 5432)) as proxy:
        proxy.cut("before", commit=2)   # the 2nd COMMIT never reaches the server
        proxy.cut("after", commit=2)    # the 2nd COMMIT runs, its reply never reaches the client
        proxy.cut("hold", commit=1)     # blackhole: the COMMIT is kept, the line stays open
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db?sslmode=disable"

SYNC.md 3.1 (`cut_before_commit`, `cut_after_commit`); toxiproxy is not in Debian.
"""

from __future__ import annotations

import socket
import threading
import time


class ChaosProxy:
    def __init__(self, target: tuple[str, int], hold_s: float = 4.0):
        self.hold_s = hold_s
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._mode: str | None = None
        self._commit_at = 0
        self._commits = 0
        self.cuts = 0
        self._stopped = False

    def cut(self, mode: str | None, commit: int = 1) -> None:
        with self._lock:
            self._mode, self._commit_at, self._commits = mode, commit, 0

    def __enter__(self) -> "ChaosProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            state = {"drop_reply": False}
            threading.Thread(target=self._upstream, args=(client, server, state),
                             daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, state),
                             daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket, state: dict) -> None:
        try:
            while chunk := client.recv(65536):
                action = self._on_chunk(chunk)
                if action == "before":
                    return self._close(client, server)
                if action == "hold":  # a worker that hangs holding its locks, then dies
                    time.sleep(self.hold_s)
                    return self._close(client, server)
                if action == "after":
                    state["drop_reply"] = True
                server.sendall(chunk)
        except OSError:
            pass
        self._close(client, server)

    def _downstream(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while chunk := server.recv(65536):
                if state["drop_reply"]:  # the COMMIT ran; its answer is lost
                    return self._close(client, server)
                client.sendall(chunk)
        except OSError:
            pass
        self._close(client, server)

    def _on_chunk(self, chunk: bytes) -> str | None:
        if b"COMMIT" not in chunk:
            return None
        with self._lock:
            self._commits += 1
            if self._mode and self._commits == self._commit_at:
                self.cuts += 1
                return self._mode
        return None

    @staticmethod
    def _close(*socks: socket.socket) -> None:
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
