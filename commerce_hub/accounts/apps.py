from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "commerce_hub.accounts"
    label = "accounts"
    verbose_name = "Accounts"
