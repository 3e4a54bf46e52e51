"""A TCP server that accepts connections and never answers: Redis stopped with SIGSTOP, as a client sees it."""

import contextlib
import socket
import threading


class FrozenServer:
    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed by stop()
                return
            self.accepted.append(connection)  # held open, never read from, never written to

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        # close() alone leaves accept() blocked in the other thread until the join below times out (5 s a test);
        # shutdown() wakes it with an error.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for connection in self.accepted:
            connection.close()
        self.thread.join(timeout=5)
