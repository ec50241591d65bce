from datetime import timedelta

from django.db import migrations
from django.db.models import Count, Q


def forward(apps, schema_editor):
    """Requests written before windows and expiry existed: a day's window from when they were
    posted, and a week to find help; the hours a helper reported move onto their claim."""
    AidPost = apps.get_model("aid_posts", "AidPost")
    Claim = apps.get_model("aid_posts", "Claim")
    posts = AidPost.objects.annotate(live=Count("claims", filter=Q(claims__status__in=["pending", "accepted"])))
    for post in posts:
        post.window_starts_at = post.created_at
        post.window_ends_at = post.created_at + timedelta(days=1)
        post.expires_at = post.created_at + timedelta(days=7)
        post.live_claims = post.live
        post.save(update_fields=["window_starts_at", "window_ends_at", "expires_at", "live_claims"])
        if post.hours is not None:
            Claim.objects.filter(post=post, status="accepted").update(hours=post.hours, done_at=post.updated_at)


def backward(apps, schema_editor):
    AidPost = apps.get_model("aid_posts", "AidPost")
    Claim = apps.get_model("aid_posts", "Claim")
    for claim in Claim.objects.filter(status="accepted", hours__isnull=False):
        AidPost.objects.filter(pk=claim.post_id).update(hours=claim.hours)


class Migration(migrations.Migration):
    dependencies = [("aid_posts", "0003_request_fields_seats_dispatch_feedback")]

    operations = [migrations.RunPython(forward, backward)]
