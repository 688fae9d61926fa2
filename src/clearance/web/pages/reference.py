"""``/docs``: the API reference as a page, rendered here from the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from clearance.core.access import Level

from ..rendering import render

__all__ = ["api_reference"]


def api_reference(request: Request, schema: dict[str, Any]) -> Response:
    """``/docs``: the OpenAPI document as a page (open to all: it holds no case data)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            parameters = [f"{p['name']} ({p['in']})" for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": (op.get("description") or "").split("\n")[0],
                    "parameters": parameters,
                    "body": ref.rsplit("/", 1)[-1] if ref else ("JSON" if body else ""),
                    "statuses": sorted(op.get("responses", {})),
                }
            )
    return render(
        request,
        "api_docs.html",
        viewer=None,
        level=Level.UNCLASSIFIED,
        title="HTTP API",
        groups=sorted(groups.items()),
    )
