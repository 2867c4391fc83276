"""The Docker Compose stack (read as YAML: no Docker engine runs the tests) and the demo
data's refusal to land in a production installation."""

import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from branches.models import OrgUnit

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("web", "worker", "beat")
# Set by docker-compose.yml for the containers and kept out of .env (settings.py reads
# .env outside Docker too, where they must stay unset).
SET_BY_COMPOSE = {"PARTYBUILD_ENV", "DATABASE_URL", "REDIS_URL"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def documented_settings() -> list[str]:
    """The variables in README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, flags=re.M)


def env_example() -> dict[str, bool]:
    """Each variable in .env.example, and whether it is set (True) or commented out (False)."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(#?)([A-Z][A-Z0-9_]+)=", line)
        if match:
            found[match[2]] = found.get(match[2], False) or not match[1]
    return found


def env_files(service: dict) -> list[str]:
    value = service.get("env_file", [])
    items = value if isinstance(value, list) else [value]
    return [item["path"] if isinstance(item, dict) else item for item in items]


def test_the_app_services_read_every_setting_from_the_env_file(compose):
    for name in APP_SERVICES:
        assert ".env" in env_files(compose["services"][name]), name


def test_every_documented_setting_is_in_the_env_example_or_set_by_compose(compose):
    documented = documented_settings()
    assert len(documented) > 15 and "AXES_IP_FAILURE_LIMIT" in documented
    example = env_example()
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        missing = [v for v in documented if v not in example and v not in environment]
        assert missing == [], f"{name}: documented but neither in .env.example nor set by compose: {missing}"
        # What compose decides for the containers is really set there.
        assert SET_BY_COMPOSE <= set(environment), name
        assert environment["PARTYBUILD_ENV"] == "production"
    # .env.example does not set what compose decides (it would break `make demo`).
    assert not {v for v, is_set in example.items() if is_set} & SET_BY_COMPOSE


def test_postgres_is_checked_over_tcp(compose):
    test = compose["services"]["db"]["healthcheck"]["test"]
    command = test[1:] if test[0] in ("CMD", "CMD-SHELL") else test
    command = command if isinstance(command, list) else command.split()
    assert command[0] == "pg_isready"
    # -h with a host name or address, not a socket directory: pg_isready then uses TCP.
    host = command[command.index("-h") + 1]
    assert host in ("127.0.0.1", "localhost")


def test_the_image_is_built_once(compose):
    services = compose["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["web"]
    image = services["web"]["image"]
    assert image
    for name in ("worker", "beat"):
        assert "build" not in services[name]
        assert services[name]["image"] == image


# --- seed_demo in production ----------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PARTYBUILD_ENV = "production"
    with pytest.raises(CommandError, match="PARTYBUILD_ENV is production.*--force"):
        call_command("seed_demo", "--branches", "1", "--members", "3", "--months", "0", stdout=StringIO())
    assert not OrgUnit.objects.exists()


@pytest.mark.django_db
def test_seed_demo_runs_in_production_when_forced(settings):
    settings.PARTYBUILD_ENV = "production"
    call_command("seed_demo", "--force", "--branches", "1", "--members", "3", "--months", "0", stdout=StringIO())
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).count() == 1
