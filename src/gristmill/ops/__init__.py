"""Operators: the contract, the registry, and the built-in library by family."""

from gristmill.ops.base import GlobalOperator, Operator, OpParams, Signal
from gristmill.ops.registry import all_ops, get_op, register

__all__ = ["GlobalOperator", "OpParams", "Operator", "Signal", "all_ops", "get_op", "register"]
