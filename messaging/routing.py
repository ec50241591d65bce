from django.urls import path

from .consumers import ChatConsumer, StreamConsumer

websocket_urlpatterns = [
    path("ws/conversations/<int:conversation_id>/", ChatConsumer.as_asgi()),
    path("ws/stream/", StreamConsumer.as_asgi()),
]
