from django.db import OperationalError
from django.shortcuts import render

from common.locks import LockBusy, is_lock_timeout

RETRY_AFTER_SECONDS = 5


class LockBusyMiddleware:
    """A row lock not granted within `lock_timeout` answers 503 with Retry-After and a translated page: the
    transaction has rolled back, so nothing was saved, and the person can simply try again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, LockBusy) or (isinstance(exception, OperationalError) and is_lock_timeout(exception)):
            response = render(request, "503_busy.html", status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return None
