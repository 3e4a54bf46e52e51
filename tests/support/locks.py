"""Hold a row lock from another connection, so that a test can see what a request does when it cannot get it."""

import threading

from django.db import connection, transaction

from common.locks import lock_one


class RowHolder:
    """Hold a row lock on another connection (a thread of its own) until the block ends."""

    def __init__(self, model, pk):
        self.model, self.pk = model, pk
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            with transaction.atomic():
                lock_one(self.model.objects.all(), pk=self.pk)
                self.locked.set()
                self.release.wait(10)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


def elsewhere(sql: str, params: list) -> list[tuple]:
    """Run `sql` on another connection (a thread of its own, in autocommit) and return its rows; raises what it
    raised. With FOR UPDATE NOWAIT, it tells whether a row's lock is free at this moment."""
    found = []

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                found.append(cursor.fetchall())
        except Exception as error:
            found.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    if not found:
        raise AssertionError(f"the other connection did not answer within 10 s: {sql}")
    if isinstance(found[0], Exception):
        raise found[0]
    return found[0]
