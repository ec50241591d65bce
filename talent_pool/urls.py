from django.urls import path

from . import views

app_name = "talent_pool"
urlpatterns = [path("", views.directory, name="directory")]
