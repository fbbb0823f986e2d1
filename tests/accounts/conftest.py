import pytest


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded documents go to a throwaway private root, never the project's."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private-media")
