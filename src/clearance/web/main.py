"""The application as uvicorn's workers build it, from the environment's settings."""

from __future__ import annotations

from fastapi import FastAPI

from clearance.settings import load_settings

from .app import create_app, json_logging
from .context import open_server

__all__ = ["app_from_environment"]


def app_from_environment() -> FastAPI:
    json_logging()
    return create_app(open_server(load_settings()))
