import copy
import uuid

import pytest


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """allauth keeps its rate limits in the cache: give each test its own key prefix (same
    real cache) so counts neither leak between tests nor collide with parallel workers."""
    caches = copy.deepcopy(settings.CACHES)
    prefix = caches["default"].get("KEY_PREFIX", "")
    caches["default"]["KEY_PREFIX"] = f"{prefix}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded documents go to a throwaway private root, never the project's."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private-media")
