"""Errors raised on bad input. Each message names the offending file."""


class DatasetError(ValueError):
    """Input data (summary, EDF, metadata or config) that the workflow cannot use."""
