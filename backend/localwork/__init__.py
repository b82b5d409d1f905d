"""LocalWork Hero: a private desktop assistant running open models on the user's machine."""

__version__ = "0.1.0"
APP_NAME = "LocalWork Hero"
