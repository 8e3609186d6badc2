"""Who is calling: bearer token checks, local accounts and the `CurrentUser` dependency.

Handlers declare `user: CurrentUser` and receive the signed-in person's database row; everything
about tokens, passwords and refresh-token rotation stays inside this package.
"""
