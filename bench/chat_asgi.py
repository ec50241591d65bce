"""The ASGI application bench/chat.py serves: the site's own, plus a baseline to compare with.

`ws/echo/<room>/` is the least a chat server can do over the same channel layer: every text
frame a socket sends goes to its room's group as it is, and every frame the group hears goes
to the socket. No authentication, no database, no JSON; so the chat's figures divided by the
echo's, measured in the same run on the same server processes, say what the site's own work
(the access checks, the save, the payload) adds to what the layer and the server cost anyway.

Run by uvicorn: `uvicorn bench.chat_asgi:application --lifespan off` from the repository root.
"""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path

# Sets Django up (with config.settings.base unless DJANGO_SETTINGS_MODULE says otherwise).
from config.asgi import application as site_application

ECHO_PREFIX = "/ws/echo/"


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"echo.{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(self.group, {"type": "echo.frame", "text": text_data})

    async def echo_frame(self, event: dict) -> None:
        await self.send(text_data=event["text"])


echo_application = URLRouter([path("ws/echo/<int:room>/", EchoConsumer.as_asgi())])


async def application(scope, receive, send):
    """The echo route before the site's own stack (Origin check, session, routes), unchanged."""
    if scope["type"] == "websocket" and scope["path"].startswith(ECHO_PREFIX):
        return await echo_application(scope, receive, send)
    return await site_application(scope, receive, send)
