"""Settings → Subscriptions: the retry schedule (increasing positive whole days, at most ten), what the last retry
does, and trial reminders; only settings managers open it."""

import pytest
from django.core.exceptions import ValidationError

from billing.selectors.subscription_settings import subscription_settings_get
from billing.services.subscription_settings import retry_days_parse
from commerce_hub.accounts.models import Role
from tests.billing.quote_builder_data import client_for, text_of

URL = "/billing/subscriptions/settings/"


@pytest.mark.parametrize(
    ("text", "days"), [("1, 3, 5, 7", [1, 3, 5, 7]), ("2;4", [2, 4]), (" 1 ,2,3,4,5,6,7,8,9,10 ", list(range(1, 11)))]
)
def test_retry_days_are_read_as_the_admin_types_them(text, days):
    assert retry_days_parse(text) == days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one day"),
        ("3, 1", "later than the one before"),
        ("1, 1", "later than the one before"),
        ("0, 2", "positive"),
        ("1, two", "not a whole number"),
        ("1.5", "not a whole number"),
        ("-1", "not a whole number"),
        (",".join(str(n) for n in range(1, 12)), "At most 10"),
        ("1, 90", "within 60 days"),
        ("99999999999999999999", "not a whole number"),
    ],
)
def test_bad_retry_days_are_refused(text, message):
    with pytest.raises(ValidationError) as caught:
        retry_days_parse(text)
    assert message in " ".join(caught.value.message_dict["retry_days"])


def test_an_admin_saves_the_settings_and_others_cannot_open_them(admin_client):
    page = admin_client.get(URL)
    assert page.status_code == 200 and "1, 3, 5, 7" in page.content.decode()
    assert 'aria-current="page">Subscriptions</a>' in page.content.decode()
    response = admin_client.post(
        URL, {"retry_days": "2, 4, 8", "after_final_retry": "leave_open", "trial_reminder_days": "5"}
    )
    assert response.status_code == 302
    settings = subscription_settings_get()
    assert (settings.retry_days, settings.after_final_retry, settings.trial_reminder_days) == (
        [2, 4, 8],
        "leave_open",
        5,
    )
    bad = admin_client.post(URL, {"retry_days": "5, 3", "after_final_retry": "cancel", "trial_reminder_days": "5"})
    assert bad.status_code == 400 and "later than the one before" in text_of(bad)
    assert subscription_settings_get().retry_days == [2, 4, 8]
    assert client_for(Role.FINANCE).get(URL).status_code == 403
