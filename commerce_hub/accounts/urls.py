from django.urls import path

from commerce_hub.accounts import views, views_security

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views_security.login_verify, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("account/security/", views_security.account_security, name="security"),
    path("account/password/", views_security.password_change, name="password_change"),
    path("account/sessions/sign-out-others/", views_security.sessions_logout_others, name="sessions_logout_others"),
    path("account/two-factor/", views_security.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/disable/", views_security.two_factor_disable, name="two_factor_disable"),
    path("account/two-factor/verify/", views_security.two_factor_session_verify, name="two_factor_session_verify"),
    path("settings/security/", views_security.security_settings, name="security_settings"),
    path("welcome/<str:token>/", views.welcome, name="welcome"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("settings/users/", views.user_list, name="users"),
    path("settings/users/invite/", views.user_invite, name="user_invite"),
    path("settings/users/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/users/<int:pk>/", views.user_detail, name="user_detail"),
    path("settings/users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("settings/users/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("settings/audit/", views.audit_log, name="audit_log"),
]
