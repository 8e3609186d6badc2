"""Who is calling: bearer token checks, local accounts and the `CurrentUser` dependency.

Handlers declare `user: CurrentUser` and receive the signed-in person (`user.id` is their users-row
id); `AnalysisUser` also counts an analysis against the per-user rate limit. Everything about
tokens, passwords and refresh-token rotation stays inside this package.
"""

from serve_app.security.auth.dependencies import (
    AnalysisUser,
    AuthenticatedUser,
    CurrentUser,
    OptionalUser,
    TokenIdentity,
)

__all__ = ["AnalysisUser", "AuthenticatedUser", "CurrentUser", "OptionalUser", "TokenIdentity"]
