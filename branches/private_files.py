"""Documents only their owner and the owner's staff may read: ID cards, relative proofs,
base licences.

They are stored under ``settings.PRIVATE_MEDIA_ROOT``, which no URL serves, under random
names (the uploader's filename can carry a name or an ID number); views hand them out one by
one after checking who asks, with ``private_file_response``.
"""

from __future__ import annotations

import mimetypes
import os
import re
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

_SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,8}$")
# What a stored document may be served as; anything else goes out as a download of bytes.
_INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}


@deconstructible(path="branches.private_files.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """A FileSystemStorage at PRIVATE_MEDIA_ROOT (read when first used) with no public URL."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private documents have no public URL; link to their download view.")


private_storage = PrivateStorage()


@deconstructible(path="branches.private_files.RandomName")
class RandomName:
    """``upload_to``: ``<folder>/<uuid4><original extension>``, nothing else of the filename."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        extension = os.path.splitext(filename or "")[1].lower()
        if not _SAFE_EXTENSION.match(extension):
            extension = ""
        return f"{self.folder}/{uuid.uuid4().hex}{extension}"

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


def private_file_response(document: FieldFile) -> FileResponse:
    """The document, shown in the browser, never cached or sniffed into something else."""
    if not document:
        raise Http404
    try:
        handle = document.storage.open(document.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = mimetypes.guess_type(document.name)[0]
    if content_type not in _INLINE_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=False,
        filename=os.path.basename(document.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def move_to_private_storage(model, fields: dict[str, str], *, history_model=None) -> int:
    """Data migrations: move the files ``model``'s rows still keep under MEDIA_ROOT (from
    before documents were private) to private storage under random names.

    ``fields`` maps each file field to its folder. History rows are renamed too, since old
    names carry the uploader's filename. Public copies are deleted once the move commits.
    Returns how many files moved.
    """
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    moved = 0
    for obj in model._default_manager.order_by("pk").iterator():
        updates = {}
        for field, folder in fields.items():
            old = getattr(obj, field).name
            if not old or private_storage.exists(old) or not public.exists(old):
                continue
            with public.open(old, "rb") as handle:
                new = private_storage.save(RandomName(folder)(obj, old), handle)
            updates[field] = new
            if history_model is not None:
                history_model._default_manager.filter(**{field: old}).update(**{field: new})
            transaction.on_commit(lambda old=old: public.delete(old))
        if updates:
            model._default_manager.filter(pk=obj.pk).update(**updates)
            moved += len(updates)
    return moved
