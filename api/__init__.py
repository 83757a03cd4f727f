"""The web service and pages: `create_app(settings)`, run by `screener serve`."""

from api.main import create_app
from api.settings import Settings

__all__ = ["Settings", "create_app"]
