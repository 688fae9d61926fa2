"""The bodies the API answers with, as pydantic models: what the OpenAPI document describes.

Every field is declared in the order the service layer's ``as_dict`` writes its key, because
FastAPI serialises a response in its model's field order. Two kinds of model:

- ``Body`` (``extra="forbid"``): a body built afresh by each request, from typed
  records. A key the model does not know fails validation: the tests, which check
  every response against the document, say so at once.
- ``Recorded`` (``extra="allow"``): data read back as it was stored (a decision, a
  ledger event). The keys every version wrote are required; keys added since are
  optional, and a route showing them is declared with ``response_model_exclude_unset``,
  so a key absent from an older record stays absent (no ``null`` added) and an older
  case never fails validation. Stored data comes in its own key order (a recorded
  decision is canonical JSON: sorted keys), which it keeps: it is shown as it was read.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

__all__ = ["Body", "Recorded", "RequestData"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recorded(BaseModel):
    model_config = ConfigDict(extra="allow")

    _order: tuple[str, ...] = PrivateAttr(default=())
    """The keys in the order the data had them."""

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, Recorded):
            model._order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _in_order(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # Unannotated on purpose: the document then describes the fields, not a free dict.
        out = handler(self)
        if not self._order or not isinstance(out, dict):
            return out
        return {key: out[key] for key in self._order if key in out} | out


RequestData = Annotated[
    dict[str, Any],
    Field(
        description="A request as it was recorded, normalised: docs/formats.md describes its"
        " keys, which depend on its action (employ, transfer)."
    ),
]
