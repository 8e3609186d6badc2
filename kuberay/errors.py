"""The one error the renderer raises: a human message saying which input is wrong and how."""


class RenderError(Exception):
    """The topology, the Serve config or the environment values cannot make a consistent cluster."""
