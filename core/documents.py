"""Reports as files auditors keep: a standalone HTML document, or the same document as a PDF (WeasyPrint).

The documents share one stylesheet for paper (core/templates/core/document_style.html): A4, tables as wide as
the page. The console's own pages print with core/static/core/print.css."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

#: The formats a report downloads as, besides the page itself.
DOCUMENT_FORMATS = ("html", "pdf")


def html_to_pdf(html: str) -> bytes:
    """``html`` (a whole document) printed to PDF."""
    # Imported on use: WeasyPrint loads Pango and HarfBuzz, which only these downloads need.
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def document_response(*, html: str, filename: str, fmt: str) -> HttpResponse:
    """``html`` (a whole document) as an attachment ``filename.fmt``: the document itself, or its PDF."""
    if fmt == "pdf":
        return file_response(html_to_pdf(html), filename=f"{filename}.pdf", content_type="application/pdf")
    if fmt == "html":
        return file_response(html.encode(), filename=f"{filename}.html", content_type="text/html; charset=utf-8")
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(DOCUMENT_FORMATS)}.")


def file_response(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """``content`` as an attachment named ``filename``, kept by no browser or proxy: the documents name accounts
    and what was done for people."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response
