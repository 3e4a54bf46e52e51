"""The Makefile is the front door: `make help` names the commands the README promises."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_lists_run_test_lint_and_messages():
    result = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    targets = re.findall(r"^\s+make (\S+)\s", result.stdout, flags=re.MULTILINE)
    assert {"run", "test", "lint", "messages"} <= set(targets)


def run_recipe() -> str:
    makefile = (ROOT / "Makefile").read_text()
    return makefile[makefile.index("\nrun:") : makefile.index("\ntest:")]


def test_make_run_seeds_with_the_site_url_of_its_port():
    recipe = run_recipe()
    site_url = recipe.index("SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}")
    assert site_url < recipe.index("$(MAKE) --no-print-directory seed")


def test_make_run_keeps_mail_in_the_outbox_without_printing_it():
    recipe = run_recipe()
    assert "EMAIL_URL=$${EMAIL_URL:-dummy://}" in recipe
    assert "console://" not in recipe
    assert "--loglevel=INFO" not in recipe


def test_make_run_prints_the_logins_after_the_worker_has_settled():
    recipe = run_recipe()
    assert recipe.index("celery -A dlsc worker") < recipe.index("manage.py demo_logins --wait")
    assert "print(" not in recipe
