"""The project as an installed app, so Django finds its management commands (the demo, which drives every app)."""

from django.apps import AppConfig


class DlscConfig(AppConfig):
    name = "dlsc"
    verbose_name = "DLSC portal"
