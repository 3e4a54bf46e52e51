"""WhiteNoise scans and stats every collected static file whenever its middleware is built, and Django's test Client
builds the middleware chain anew for each client: about 0.2 s of CPU for every test that makes a request (over 80 %
of the URL sweep's time). The scan depends only on the folder and the middleware's options, so the run keeps one per
folder and options, and each new middleware copies it."""

from whitenoise.base import WhiteNoise

_scans: dict[tuple, dict] = {}
_scan = WhiteNoise.update_files_dictionary


def _options(whitenoise: WhiteNoise) -> tuple:
    return (
        type(whitenoise),
        whitenoise.max_age,
        whitenoise.allow_all_origins,
        whitenoise.charset,
        whitenoise.index_file,
        whitenoise.add_headers_function,
        tuple(sorted(whitenoise.media_types.types_map.items())),
    )


def _update_files_dictionary_once(self: WhiteNoise, root: str, prefix: str) -> None:
    key = (root, prefix, *_options(self))
    if key not in _scans:
        files, self.files = self.files, {}
        try:
            _scan(self, root, prefix)
            _scans[key] = self.files
        finally:
            self.files = files
    self.files.update(_scans[key])


def static_scan_share() -> None:
    WhiteNoise.update_files_dictionary = _update_files_dictionary_once
