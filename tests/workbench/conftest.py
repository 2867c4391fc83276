import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The forecast is cached by its inputs' watermark; each test starts without one."""
    cache.clear()
    yield
    cache.clear()
