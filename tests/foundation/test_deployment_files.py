"""Dockerfile, docker-compose.yml and .env.example agree with the code: real modules, real settings variables."""

import ast
import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
APP_IMAGE = "dlsc-portal"
# Variables that tools read rather than the settings: Django's own, and gunicorn's number of processes.
TOOL_VARIABLES = {"DJANGO_SETTINGS_MODULE", "WEB_CONCURRENCY"}


def settings_variables() -> set[str]:
    """Every name dlsc/settings.py reads through django-environ: env("X"), env.bool("X"), env.db("X"), ..."""
    tree = ast.parse((ROOT / "dlsc" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        reads_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        if reads_env and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


def env_example() -> dict[str, str]:
    """NAME -> value for every variable .env.example lists, set (NAME=) or optional (#NAME=)."""
    listed = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            listed[match.group(1)] = match.group(2)
    return listed


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_interpolated() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))


def app_services() -> dict:
    return {name: spec for name, spec in compose()["services"].items() if spec.get("image") == APP_IMAGE}


def dockerfile_cmd() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return json.loads(next(line for line in lines if line.startswith("CMD "))[4:])


def command_check(command: list[str]) -> None:
    """Fail unless the command starts something that exists in this code base."""
    program, *args = command
    if program == "gunicorn":
        # gunicorn's first argument is the WSGI application, "module:attribute".
        module_name, attribute = args[0].split(":")
        assert callable(getattr(importlib.import_module(module_name), attribute))
    elif program == "celery":
        app_module = args[args.index("-A") + 1]
        assert isinstance(importlib.import_module(f"{app_module}.celery").app, Celery)
        assert args[args.index("-A") + 2] in ("worker", "beat")
    elif program == "python" and args[0] == "manage.py":
        assert (ROOT / "manage.py").exists()
        assert args[1] in get_commands()
    else:
        pytest.fail(f"unknown program in {command}")


def test_compose_has_the_services_of_a_deployment():
    assert set(compose()["services"]) == {
        "postgres",
        "redis",
        "mailpit",
        "migrate",
        "web",
        "worker",
        "beat",
        "proxy",
    }


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_each_app_service_command_starts_a_real_module(service):
    command_check(app_services()[service]["command"])


def test_the_dockerfile_command_starts_a_real_module():
    command_check(dockerfile_cmd())


def test_the_dockerfile_python_is_the_one_the_project_pins():
    base = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM "))
    major_minor = ".".join((ROOT / ".python-version").read_text().strip().split(".")[:2])
    assert base.startswith(f"FROM python:{major_minor}-")


def test_migrations_run_once_before_web_worker_and_beat_start():
    services = compose()["services"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_every_long_running_service_has_a_healthcheck():
    services = compose()["services"]
    assert sorted(name for name, spec in services.items() if "healthcheck" in spec) == [
        "beat",
        "mailpit",
        "postgres",
        "proxy",
        "redis",
        "web",
        "worker",
    ]


def test_healthcheck_python_snippets_compile():
    snippets = [
        spec["healthcheck"]["test"][3]
        for spec in compose()["services"].values()
        if spec.get("healthcheck", {}).get("test", [None, None])[1] == "python"
    ]
    assert len(snippets) == 2
    for snippet in snippets:
        compile(snippet, "<healthcheck>", "exec")


def test_the_worker_healthcheck_pings_the_real_celery_app():
    check = shlex.split(app_services()["worker"]["healthcheck"]["test"][1])
    assert check[:5] == ["celery", "-A", "dlsc", "inspect", "ping"]


def test_app_services_read_their_environment_from_the_env_file():
    for name, spec in app_services().items():
        assert spec["env_file"] == ".env", name
        assert set(spec.get("environment", {})) <= settings_variables() | TOOL_VARIABLES, name


def test_every_variable_in_env_example_is_read_by_the_settings_or_compose():
    assert set(env_example()) - settings_variables() - compose_interpolated() - TOOL_VARIABLES == set()


def test_env_example_lists_every_variable_the_settings_read():
    assert settings_variables() - set(env_example()) == set()


def test_env_example_sets_the_variables_a_deployment_needs():
    required = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    set_lines = {
        line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^[A-Z]", line)
    }
    assert required <= set_lines
    assert env_example()["DEBUG"] == "0"


def test_compose_interpolates_only_variables_env_example_sets():
    assert compose_interpolated() - set(env_example()) == set()


# --- Uploaded files: the proxy serves /media/ from the volume the app writes -----------------------


def nginx_conf() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def volume_mounts(spec: dict) -> dict[str, str]:
    """volume or host path -> "container path[:mode]" for a compose service."""
    return dict(mount.split(":", 1) for mount in spec.get("volumes", []))


def test_web_and_worker_write_uploads_into_the_media_volume_at_media_root():
    from django.conf import settings

    container_media_root = "/app/" + settings.MEDIA_ROOT.relative_to(ROOT).as_posix()
    for name in ("web", "worker"):
        assert volume_mounts(app_services()[name])["media"] == container_media_root, name
    assert "mkdir -p /app/media" in (ROOT / "Dockerfile").read_text()


def test_the_proxy_serves_media_url_from_the_same_volume_read_only():
    from django.conf import settings

    proxy = compose()["services"]["proxy"]
    mounted = volume_mounts(proxy)
    media_path, mode = mounted["media"].split(":")
    assert mode == "ro"
    location = re.search(r"location (\S+) \{\s*alias (\S+);", nginx_conf())
    assert (location.group(1), location.group(2)) == (settings.MEDIA_URL, media_path.rstrip("/") + "/")
    assert mounted["./deploy/nginx.conf"] == "/etc/nginx/conf.d/default.conf:ro"


def test_the_proxy_passes_the_rest_to_web_on_the_port_gunicorn_binds():
    bind = app_services()["web"]["command"]
    port = bind[bind.index("--bind") + 1].rsplit(":", 1)[1]
    assert re.search(r"location / \{\s*proxy_pass http://web:(\d+);", nginx_conf()).group(1) == port
    assert app_services()["web"]["expose"] == [port]
    assert "ports" not in app_services()["web"]


def test_the_site_is_published_through_the_proxy_on_the_port_the_readme_names():
    proxy = compose()["services"]["proxy"]
    listen = re.search(r"listen (\d+);", nginx_conf()).group(1)
    assert proxy["ports"] == [f"8000:{listen}"]
    assert proxy["healthcheck"]["test"][-1] == f"http://127.0.0.1:{listen}/proxy-health"
    assert "location = /proxy-health" in nginx_conf()
    assert "http://localhost:8000" in (ROOT / "README.md").read_text()


def test_uploads_are_served_so_that_no_browser_runs_them():
    media_block = nginx_conf().split("location /media/")[1].split("}")[0]
    assert 'X-Content-Type-Options "nosniff"' in media_block
    assert "sandbox" in media_block
