"""Data policies: registered by name, chosen with ``policy.name``. Importing this package registers them all."""

from gristmill.train.policies import alignment, curve, doremi, odm, select, static  # noqa: F401  (registration)
from gristmill.train.policies.base import (
    DomainStats,
    Feedback,
    Policy,
    available_policies,
    get_policy_class,
    make_policy,
    normalize,
    register_policy,
    weighted_loss,
)

__all__ = [
    "DomainStats",
    "Feedback",
    "Policy",
    "available_policies",
    "get_policy_class",
    "make_policy",
    "normalize",
    "register_policy",
    "weighted_loss",
]
