"""Static file URLs come from the manifest that collectstatic writes, looked up once per process."""

import json

from whitenoise.storage import CompressedManifestStaticFilesStorage

from dlsc.storage import StaticStorage


def test_each_static_url_is_the_manifests_and_looked_up_once(tmp_path, monkeypatch):
    manifest = {"version": "1.1", "hash": "0", "paths": {"css/site.css": "css/site.0123456789ab.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    storage = StaticStorage(location=str(tmp_path), base_url="/static/")
    looked_up = []
    stored_name = CompressedManifestStaticFilesStorage.stored_name
    monkeypatch.setattr(
        CompressedManifestStaticFilesStorage,
        "stored_name",
        lambda self, name: looked_up.append(name) or stored_name(self, name),
    )
    assert [storage.url("css/site.css") for _ in range(3)] == ["/static/css/site.0123456789ab.css"] * 3
    assert looked_up == ["css/site.css"]
    assert storage.url("css/site.css", force=True) == "/static/css/site.0123456789ab.css"
    assert looked_up == ["css/site.css", "css/site.css"]
