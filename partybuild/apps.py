from django.apps import AppConfig


class PartybuildConfig(AppConfig):
    name = "partybuild"
    verbose_name = "partybuild"

    def ready(self):
        from branches import dataversion

        from .accounts import signals  # noqa: F401 - connects the receivers

        dataversion.connect()  # every connection bumps the data versions of what it writes
