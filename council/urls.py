from django.contrib.auth import views as django_auth_views
from django.urls import include, path

from council import auth_views, views

app_name = "council"
urlpatterns = [
    path("organizations/<slug:slug>/", views.organization_detail, name="organization-detail"),
    path("council/", auth_views.landing, name="landing"),
    # The workspace, one module per part.
    path("council/", include("council.workspace_urls")),
    path("council/", include("council.edit_urls")),
    path("council/", include("council.history_urls")),
    path("council/", include("council.csv_urls")),
    path("council/", include("council.members_urls")),
    path("council/", include("initiatives.digest_urls")),
    # Public suggestions and comments, and their moderation.
    path("", include("council.contribution_urls")),
    # Signing in and out, the second factor and password reset.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # LOGOUT_REDIRECT_URL says where to; Django's view signs out on POST only.
    path("accounts/logout/", django_auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", auth_views.second_factor_setup, name="second-factor-setup"),
    path(
        "accounts/two-factor/verify/",
        auth_views.second_factor_verify,
        name="second-factor-verify",
    ),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(),
        name="password-reset",
    ),
    path(
        "accounts/password-reset/sent/",
        django_auth_views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "accounts/reset/done/",
        django_auth_views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
]
