"""The base of every config model: frozen, unknown keys forbidden, input kept out of errors.

``hide_input_in_errors``: a rejected value may be a secret (a DSN, a webhook
secret); the loader reports where the problem is, never what was written there.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Model"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
