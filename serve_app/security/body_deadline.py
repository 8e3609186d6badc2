"""A deadline on receiving a request body, answered in the API's own error shape.

A client that trickles its body would otherwise hold a request until Serve's proxy gives up
(`request_timeout_s`, 30 s) with a plain-text 408 that is not our error shape. Here the body must
arrive within `deadline_s` of the request's start (below the proxy's timeout). Past it, the wait
for the next chunk fails, and whatever the app answers to that failure (FastAPI turns it into a
400, the upload parser into a 422) is replaced by one JSON `408 REQUEST_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve_app.errors import ServiceCode, error_response

DEFAULT_DEADLINE_S = 20.0


class _BodyTimeoutError(Exception):
    pass


class BodyDeadlineMiddleware:
    def __init__(self, app: ASGIApp, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self.app = app
        self.deadline_s = deadline_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.deadline_s
        body_complete = False
        timed_out = False
        response_started = False

        async def receive_before_deadline() -> Message:
            nonlocal body_complete, timed_out
            if body_complete:  # later receives wait for the disconnect: not bounded here
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise _BodyTimeoutError from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def send_unless_timed_out(message: Message) -> None:
            nonlocal response_started
            if timed_out and not response_started:
                return  # the app's answer to the failed read; ours follows
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTimeoutError):
            await self.app(scope, receive_before_deadline, send_unless_timed_out)
        if timed_out and not response_started:
            message = f"The request body did not arrive within {self.deadline_s:g} s. Please try again."
            await error_response(ServiceCode.REQUEST_TIMEOUT, message)(scope, receive, send)
