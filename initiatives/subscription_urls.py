from django.urls import path

from initiatives import subscription_views as views

app_name = "subscriptions"
urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("check-your-email/", views.sent, name="sent"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path(
        "manage/<str:token>/<int:pk>/cancel/",
        views.manage_action,
        {"action": "cancel"},
        name="manage-cancel",
    ),
    path(
        "manage/<str:token>/<int:pk>/settings/",
        views.manage_action,
        {"action": "update"},
        name="manage-update",
    ),
    path(
        "manage/<str:token>/targets/<int:pk>/remove/",
        views.manage_action,
        {"action": "remove-target"},
        name="manage-remove-target",
    ),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/cancel/", views.mine_action, {"action": "cancel"}, name="mine-cancel"),
    path("mine/<int:pk>/settings/", views.mine_action, {"action": "update"}, name="mine-update"),
    path(
        "mine/targets/<int:pk>/remove/",
        views.mine_action,
        {"action": "remove-target"},
        name="mine-remove-target",
    ),
]
