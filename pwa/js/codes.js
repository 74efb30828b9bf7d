// The words the app shows for stored codes (MHSDS codes as plain words; the same words as server/codes.py, tested).
export const MODES = [["01", "Face to face"], ["02", "Telephone"], ["11", "Video call"], ["09", "Text message"], ["98", "Other"]];
export const LOCATIONS = [
  ["A01", "Person's home"], ["H01", "Day centre"], ["J01", "Resource centre"], ["N03", "Community venue"],
  ["N02", "Cafe or public place"], ["N01", "Street, park or open space"], ["X01", "Other place"],
];
export const ATTENDANCE = [
  ["5", "Attended"], ["6", "Arrived late, but was seen"], ["7", "Arrived late and could not be seen"],
  ["3", "Did not attend"], ["2", "Cancelled by the person"], ["4", "Cancelled by us"],
];
// Pre-0090 location codes a phone may still hold (its last visit's defaults): shown as the right ones.
export const LEGACY_LOCATIONS = { B01: "N03", E01: "N02", A04: "X01" };
// Outcomes (server/codes.py): CHIME tags on goals, and who gave a goal rating.
export const CHIME = [
  ["connectedness", "Connectedness"], ["hope", "Hope and optimism"], ["identity", "Identity"],
  ["meaning", "Meaning and purpose"], ["empowerment", "Empowerment"],
];
export const RATED_BY = [["person", "The person"], ["together", "Together"]];
export const CONCERNS = [["none", "No concern"], ["low", "Some concern"], ["high", "Serious concern"]];
export const GOAL_STATUSES = [["active", "Working on it"], ["achieved", "Achieved"], ["paused", "Paused"], ["closed", "Closed"]];
export const REFERRAL_STATUSES = [
  ["suggested", "Suggested"], ["made", "Referral made"], ["attended", "Attended"], ["not_taken_up", "Not taken up"],
  ["closed", "Closed"],
];
export const LIFE_AREAS = [
  "Wellbeing", "Physical health", "Home", "Money", "Work and learning", "Relationships", "Community and belonging",
  "Daily living", "Other",
];
export const DURATIONS = [15, 30, 45, 60, 90, 120];

export function word(list, code) {
  const hit = list.find(([c]) => c === code);
  return hit ? hit[1] : code || "";
}
// What a coordinator did about a concern (server/codes.py CONCERN_OUTCOMES): shown on the visit on the phone.
export const CONCERN_OUTCOMES = [
  ["no_action", "No further action"], ["safeguarding", "Safeguarding referral made"],
  ["crisis_team", "Crisis team contacted"], ["other", "Other"],
];
