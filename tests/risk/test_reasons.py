from django.utils import translation

from tandem.notifications.messages import Message
from tandem.risk.reasons import reason_message, reason_texts

STORED = {"feature": "health_score", "delta": 0.8123, "value": 30.92, "typical": 61.17, "label": "Health score"}


def test_a_stored_reason_renders_in_the_readers_language():
    with translation.override("en"):
        assert reason_texts([STORED]) == ["Health score: 30.92 (typical 61.17), +81 pts"]
    with translation.override("ja"):
        (text,) = reason_texts([STORED])
    assert "Health score" not in text and "通常" in text
    assert "30.92" in text and "61.17" in text and "81" in text


def test_metric_reasons_use_the_metric_name_and_survive_json():
    reason = {"feature": "logins_28d", "delta": 0.05, "value": None, "typical": 1234.0, "label": "Logins (28 days)"}
    message = reason_message(reason)
    assert isinstance(message, Message)
    restored = Message.from_json(message.to_json())
    with translation.override("en"):
        assert str(restored) == "Logins (28 days): — (typical 1,234), +5 pts"


def test_rows_scored_before_structured_reasons_show_their_text():
    assert reason_texts([{"text": "Usage: 3 (typical 40)"}, "", "plain"]) == ["Usage: 3 (typical 40)", "plain"]
