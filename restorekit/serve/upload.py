"""Read a ``multipart/form-data`` upload straight into a job's private folder.

Starlette's own form parser spools large files to the system's temporary folder; here every
file part is written, as it arrives, to a fixed name inside the folder we were given (the
client's file name is kept for display only, never used as a path), and the whole body is
counted against a size limit, so that an oversized request stops at the limit whether or not
it declared its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from restorekit.errors import RestorekitError

MAX_FIELD_BYTES = 16 * 1024  # form fields are short settings
MAX_PARTS = 32


class UploadTooLargeError(RestorekitError):
    """The request is larger than the server's limit (HTTP 413)."""


class BadUploadError(RestorekitError):
    """The request is not a form this server understands (HTTP 400)."""


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, Path]] = field(default_factory=dict)  # field -> (client's name, saved path)


def too_large_message(limit: int) -> str:
    return f"the upload is larger than this server's limit of {limit / 1e6:g} MB (restorekit serve --max-upload-mb)"


async def receive_form(request, folder: Path, limit: int, file_fields: dict[str, str]) -> Upload:
    """Parse the request's form into ``folder``; ``file_fields`` maps a field to its saved stem.

    Raises :class:`UploadTooLargeError` past ``limit`` bytes and :class:`BadUploadError` for
    anything but a well-formed multipart form with known file fields.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(too_large_message(limit))
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadUploadError("expected a multipart/form-data upload")

    upload = Upload()
    state = _PartState()

    def on_part_begin():
        state.begin()

    def on_header_field(data, start, end):
        state.header_name += data[start:end]

    def on_header_value(data, start, end):
        state.header_value += data[start:end]

    def on_header_end():
        if state.header_name.lower() == b"content-disposition":
            state.disposition = state.header_value
        state.header_name, state.header_value = b"", b""

    def on_headers_finished():
        state.parts += 1
        if state.parts > MAX_PARTS:
            raise BadUploadError(f"too many form parts (at most {MAX_PARTS})")
        _, options = parse_options_header(state.disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if not name:
            raise BadUploadError("a form part has no name")
        state.name = name
        if b"filename" in options:
            if name not in file_fields:
                raise BadUploadError(f"unexpected file field {name!r}")
            if name in upload.files:
                raise BadUploadError(f"one file per field ({name!r} came twice)")
            client_name = options[b"filename"].decode("utf-8", "replace")
            path = folder / (file_fields[name] + safe_suffix(client_name))
            state.file = open(path, "xb")  # noqa: SIM115 - closed in on_part_end or on error
            state.client_name, state.path = client_name, path
            state.open_files.append(state.file)

    def on_part_data(data, start, end):
        if state.file is not None:
            state.file.write(data[start:end])
            state.file_bytes += end - start
        else:
            state.value += data[start:end]
            if len(state.value) > MAX_FIELD_BYTES:
                raise BadUploadError(f"form field {state.name!r} is too long")

    def on_part_end():
        if state.file is not None:
            state.file.close()
            if state.file_bytes == 0 and not state.client_name:  # an empty file input
                state.path.unlink()
            else:
                upload.files[state.name] = (state.client_name, state.path)
        else:
            upload.fields[state.name] = state.value.decode("utf-8", "replace")

    callbacks = {"on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
                 "on_header_field": on_header_field, "on_header_value": on_header_value,
                 "on_header_end": on_header_end, "on_headers_finished": on_headers_finished}
    received = 0
    try:
        parser = MultipartParser(params[b"boundary"], callbacks)
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise UploadTooLargeError(too_large_message(limit))
            parser.write(chunk)
        parser.finalize()
    except RestorekitError:
        raise
    except Exception as exc:  # python-multipart's parse errors, a dropped connection
        raise BadUploadError(f"the upload could not be read ({type(exc).__name__})") from exc
    finally:
        for f in state.open_files:
            f.close()
    return upload


class _PartState:
    def __init__(self):
        self.parts = 0
        self.open_files: list = []
        self.begin()

    def begin(self):
        self.header_name = self.header_value = self.disposition = self.value = b""
        self.name = self.client_name = ""
        self.file = None
        self.path: Path | None = None
        self.file_bytes = 0


def safe_suffix(name: str) -> str:
    """The file name's suffix if it is short and plain (``.png``), else nothing."""
    match = re.search(r"\.[A-Za-z0-9]{1,5}$", name)
    return match.group(0).lower() if match else ""


def display_name(name: str) -> str:
    """A client's file name cut to its last component and 120 printable characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:120] or "image"
