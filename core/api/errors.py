"""Maps domain errors raised by services to API responses, in drf-standardized-errors' one shape."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error


class ExceptionHandler(BaseExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            # A service's ValidationError({"field": "message"}) names the field in `attr`.
            return exceptions.ValidationError(as_serializer_error(exc))
        if isinstance(exc, ObjectDoesNotExist):
            return exceptions.NotFound()
        if isinstance(exc, PermissionDenied):
            # Keep the service's reason (a legal hold, a plan): the caller needs it to act.
            return exceptions.PermissionDenied(str(exc) or None)
        return super().convert_known_exceptions(exc)
