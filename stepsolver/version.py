"""The version of stepsolver (the bottom floor: imports nothing)."""

__version__ = "0.1.0"
