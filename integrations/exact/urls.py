from django.urls import path

from integrations.exact.views import connection, records, wizard

app_name = "exact"

urlpatterns = [
    path("", connection.exact_settings, name="settings"),
    path("connect/", connection.exact_connect, name="connect"),
    path("callback/", connection.exact_callback, name="callback"),
    path("disconnect/", connection.exact_disconnect, name="disconnect"),
    path("setup/", wizard.exact_wizard, name="wizard"),
    path("log/", records.sync_log, name="sync_log"),
    path("log/<int:pk>/retry/", records.sync_log_retry, name="sync_log_retry"),
    path("reconciliation/", records.reconciliation_page, name="reconciliation"),
    path("deals/<int:pk>/push/", records.deal_push, name="deal_push"),
]
