"""Files an API view builds itself (a PDF, a workbook, an HTML document), negotiated like JSON: ``?format=pdf``
or ``Accept: application/pdf``. The view answers the file itself (:func:`core.documents.file_response`); the
renderer only makes the format one the view can be asked for, and renders an error on the way (a 404, a refused
``as_of``) as the JSON error every other view gives, with its own media type."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer


class FileRenderer(BaseRenderer):
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class XLSXRenderer(FileRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"


class HTMLDocumentRenderer(FileRenderer):
    media_type = "text/html"
    format = "html"


#: The file renderers, for a view's ``renderer_classes`` beside the default ones.
FILE_RENDERERS = [PDFRenderer, XLSXRenderer, HTMLDocumentRenderer]
