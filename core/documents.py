"""Reports as files auditors keep: a standalone HTML document, or the same document as a PDF (WeasyPrint).

The documents share one stylesheet for paper (core/templates/core/document_style.html): A4, tables as wide as
the page. The console's own pages print with core/static/core/print.css."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

#: The formats a report downloads as, besides the page itself.
DOCUMENT_FORMATS = ("html", "pdf")


def document_response(*, html: str, filename: str, fmt: str) -> HttpResponse:
    """``html`` (a whole document) as an attachment ``filename.fmt``: the document itself, or its PDF."""
    if fmt == "pdf":
        # Imported on use: WeasyPrint loads Pango and HarfBuzz, which only these downloads need.
        from weasyprint import HTML

        response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    elif fmt == "html":
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    else:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(DOCUMENT_FORMATS)}.")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    # The documents name accounts and what was done for people: no browser or proxy keeps a copy.
    add_never_cache_headers(response)
    return response
