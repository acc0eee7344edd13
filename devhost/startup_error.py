"""The base of errors that explain, in one message, why the host cannot start."""


class StartupError(Exception):
    """Reported without a traceback: the message says what to fix."""
