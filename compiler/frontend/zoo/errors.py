"""The one exception of the model zoo."""


class ZooError(Exception):
    """A zoo model cannot be built: unknown name, bad sequence length, or a missing package."""
