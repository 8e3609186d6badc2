"""The HTTP surface: one FastAPI app (`main.build_api`) made of routers, one per part of the API.

`analysis` (submit a photo, poll its task), `history` (stored results), `health` (probes), and the
web app's pages and files (`web_app`); request parsing (`upload`) and response bodies (`schemas`,
`results`) beside them. Sign-in and limits come
from `serve_app.security`, the per-request database session from `serve_app.database`; the analysis
itself runs in `serve_app.orchestration`. Nothing here holds decoded pixels.
"""
