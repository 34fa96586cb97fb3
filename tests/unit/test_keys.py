from lambdas.domain.keys import attendee_key, email_in_key, event_key


def test_event_item_key_uses_the_same_value_for_pk_and_sk():
    assert event_key("evt-42@example.com") == {
        "pk": "event#evt-42@example.com",
        "sk": "event#evt-42@example.com",
    }


def test_attendee_key_lower_cases_the_address_so_case_variants_are_one_attendee():
    assert attendee_key("u1", "Bob@Example.ORG") == {"pk": "event#u1", "sk": "attendee#bob@example.org"}


def test_the_address_in_an_attendee_key_is_read_back_lower_cased():
    assert email_in_key(attendee_key("u1", "Bob@Example.ORG")) == "bob@example.org"
