"""Test settings: the real ones, with a throwaway key and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from timebank.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", "/tmp/timebank-test-media")
STATIC_ROOT = None  # tests serve static files from the finders, nothing is collected
WHITENOISE_USE_FINDERS = True
PRIVATE_MEDIA_ROOT = os.environ.get("TEST_PRIVATE_MEDIA_ROOT", "/tmp/timebank-test-private-media")
