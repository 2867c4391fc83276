from django.apps import AppConfig


class PartybuildConfig(AppConfig):
    name = "partybuild"
    verbose_name = "partybuild"

    def ready(self):
        from .accounts import signals  # noqa: F401 - connects the receivers
