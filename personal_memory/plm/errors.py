"""Errors the personal language model raises; the CLI turns them into clean messages."""

from personal_memory.pms.errors import PMSError


class PLMError(PMSError):
    """Base class: the message says what went wrong and how to recover."""


class BaseModelError(PLMError, LookupError):
    """No base model is configured, or the configured one is not on this machine."""


class TrainingDataError(PLMError, ValueError):
    """The training data is missing, empty or does not match what the command needs."""


class AdapterError(PLMError, LookupError):
    """No adapter version to use, evaluate, merge or roll back to."""


class TrainingDependencyError(PLMError, ImportError):
    """A library of the ``train`` extra is missing."""
