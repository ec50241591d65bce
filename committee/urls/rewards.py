from django.urls import path

from ..views import certificates, rewards

app_name = "rewards"
urlpatterns = [
    # Points: my points and redemptions, the catalogues of my communities, the monthly leaderboard.
    path("", rewards.overview, name="overview"),
    path("catalogue/", rewards.catalogue, name="catalogue"),
    path("catalogue/<int:pk>/redeem/", rewards.redeem, name="redeem"),
    path("redemptions/<int:pk>/cancel/", rewards.my_redemption_cancel, name="redemption_cancel"),
    path("leaderboard/", rewards.leaderboard, name="leaderboard"),
    path("leaderboard/opt-out/", rewards.leaderboard_opt_out, name="leaderboard_opt_out"),
    # Certificates: the member's list, the page and PDF (the member's and their community staff's),
    # and the public check, which needs no login.
    path("certificates/", certificates.my_certificates, name="certificates"),
    path("certificates/<int:pk>/", certificates.certificate_page, name="certificate"),
    path("certificates/<int:pk>/pdf/", certificates.certificate_pdf, name="certificate_pdf"),
    path("verify/", certificates.verify, name="verify"),
    path("verify/<str:code>/", certificates.verify_code, name="verify_code"),
]
