"""Every national code list the app stores or exports, in one place, each code with the words a worker sees and
the words of its source. Source: the NHS Data Dictionary (NHS England), the data elements the Mental Health
Services Data Set (MHSDS) uses for a care contact, as published in the Data Dictionary release of June 2026:

    CONSULTATION MECHANISM (MENTAL HEALTH)  data_elements/consultation_mechanism_mental_health.html
    ACTIVITY LOCATION TYPE CODE             data_elements/activity_location_type_code.html
    ATTENDED OR DID NOT ATTEND CODE         data_elements/attended_or_did_not_attend_code.html
    CONSULTATION TYPE                       data_elements/consultation_type.html

(https://www.datadictionary.nhs.uk/). tests/mhsds_data/data_dictionary.json is a copy of those code lists; the
tests hold every code here to it. pwa/js/codes.js shows the same words on the phone (tested too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    words: str  # what a worker or coordinator reads
    dictionary: str  # the Data Dictionary's own description


CONSULTATION_MECHANISM = (
    Code("01", "Face to face", "Face to face"),
    Code("02", "Telephone", "Telephone"),
    Code("11", "Video call", "Video consultation"),
    Code("09", "Text message", "Text message (Asynchronous)"),
    Code("98", "Other", "Other (not listed)"),
)

ACTIVITY_LOCATION_TYPE = (
    Code("A01", "Person's home", "PATIENT's Home"),
    Code("H01", "Day centre", "Day Centre"),
    Code("J01", "Resource centre", "Resource Centre"),
    Code("N03", "Community venue", "Voluntary or charitable agency premises"),
    Code("N02", "Cafe or public place", "Other publicly accessible area or building"),
    Code("N01", "Street, park or open space", "Street or other public open space"),
    Code("X01", "Other place", "Other locations not elsewhere classified"),
)

ATTENDED_OR_DID_NOT_ATTEND = (
    Code("5", "Attended", "Attended on time or, if late, before the relevant CARE PROFESSIONAL was ready to see the "
                          "PATIENT"),
    Code("6", "Arrived late, but was seen", "Arrived late, after the relevant CARE PROFESSIONAL was ready to see the "
                                            "PATIENT, but was seen"),
    Code("7", "Arrived late and could not be seen", "PATIENT arrived late and could not be seen"),
    Code("3", "Did not attend", "Did not attend - no advance warning given"),
    Code("2", "Cancelled by the person", "APPOINTMENT cancelled by, or on behalf of, the PATIENT"),
    Code("4", "Cancelled by us", "APPOINTMENT cancelled or postponed by the Health Care Provider"),
)

# Not stored: a contact's consultation type is worked out (the person's first attended contact is the initial
# consultation, every later one a follow-up); see exports.consultation_types.
CONSULTATION_TYPE = (
    Code("01", "First contact", "Initial Consultation"),
    Code("02", "Follow-up", "Follow-up Consultation"),
)
INITIAL, FOLLOW_UP = "01", "02"

VISIT_MODES = {c.code: c.words for c in CONSULTATION_MECHANISM}
VISIT_LOCATIONS = {c.code: c.words for c in ACTIVITY_LOCATION_TYPE}
VISIT_ATTENDANCE = {c.code: c.words for c in ATTENDED_OR_DID_NOT_ATTEND}
# The contact took place (MHSDS counts 5 and 6 as attended).
ATTENDED = ("5", "6")

# Codes stored before migration 0090 under the wrong national code, by the words the worker chose:
# "Community venue" was B01 (Primary Care Health Centre), "Cafe or public place" E01 (Out-Patient Clinic),
# "Other place" A04 (Other PATIENT Related Location). Old phones still send them; they are mapped, not refused.
LEGACY_LOCATIONS = {"B01": "N03", "E01": "N02", "A04": "X01"}


# Outcomes (not national codes): CHIME, the recovery processes of Leamy et al. (2011), Br J Psychiatry 199:445-52,
# tagged on goals with the person; and who gave a goal rating.
CHIME = {"connectedness": "Connectedness", "hope": "Hope and optimism", "identity": "Identity",
         "meaning": "Meaning and purpose", "empowerment": "Empowerment"}
RATED_BY = {"person": "The person", "together": "Together"}


def current_visit_fields(fields: dict) -> dict:
    """A pushed visit's fields with a pre-0090 location code mapped to the right one (the same dict if none)."""
    old = fields.get("location_type")
    if type(old) is str and old in LEGACY_LOCATIONS:
        return {**fields, "location_type": LEGACY_LOCATIONS[old]}
    return fields


# Safety (issue 14): concern levels and what a coordinator did about a concern. ONE set of words, mirrored in
# pwa/js/codes.js (CONCERNS, CONCERN_OUTCOMES).
CONCERN_WORDS = {"none": "No concern", "low": "Some concern", "high": "Serious concern"}
CONCERN_OUTCOMES = {"no_action": "No further action", "safeguarding": "Safeguarding referral made",
                    "crisis_team": "Crisis team contacted", "other": "Other"}
