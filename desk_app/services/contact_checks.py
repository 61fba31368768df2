"""Checking the phone numbers and email addresses messages go to.

Mobile numbers are validated and normalised to E.164 (``phonenumbers``), read as numbers of
the clinic's country unless they start with ``+``; email addresses are checked for syntax
(``email-validator``, no DNS lookup: the desk may be offline).
"""

from __future__ import annotations

from desk_app.services.errors import ValidationError


def e164_phone(text: str, country: str = "CA") -> str:
    """'+14165550123' from what was typed ('(416) 555-0123'); ValidationError if not a number."""
    import phonenumbers

    raw = text.strip()
    if not raw:
        raise ValidationError("There is no mobile number on file; add one on the Contact tab.",
                              "phone")
    try:
        number = phonenumbers.parse(raw, country.upper() or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{raw}” is not a valid phone number; correct the mobile number on the Contact "
            "tab (include the area code, or +country code for a number abroad).",
            "phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_email(text: str) -> str:
    """The address, normalised (domain lower-cased); ValidationError if it is not one."""
    from email_validator import EmailNotValidError, validate_email

    raw = text.strip()
    if not raw:
        raise ValidationError("There is no email address on file.", "email")
    try:
        return str(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationError(f"“{raw}” is not a valid email address ({exc}).", "email") from None
