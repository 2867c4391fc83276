import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(empty_cache):
    """The forecast is cached by its inputs' watermark; each test starts without one."""
