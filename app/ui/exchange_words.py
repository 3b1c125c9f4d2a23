"""What the banner says about the exchange being drafted and the exchange just recorded.

The words come from the domain's rule violations and the recorded outcome; nothing is decided
here, only said: the rule (R1-R8) in plain words, and what to do next.
"""

from __future__ import annotations

from app.services import counter
from app.services.exchanges import ExchangeReceipt
from app.ui.feedback import Outcome, Tone


def describe_check(lead: Outcome, check: counter.DraftCheck, draft: counter.Draft) -> Outcome:
    """`lead` (what just happened) followed by what still stops completion, or "Ready"."""
    overridden = draft.override is not None
    sound = Tone.SCANNED if lead.tone is Tone.SCANNED else None
    if check.empty:
        return lead
    if check.problem:
        return Outcome(Tone.REFUSED, f"{lead.text} {check.problem}")
    if check.violations and not (overridden and check.needs_override):
        why = " ".join(f"{v.code} — {v.message}." for v in check.violations)
        more = " A site lead may override (Alt+O)." if check.needs_override else ""
        return Outcome(Tone.WAITING, f"{lead.text} Complete is not possible yet: {why}{more}",
                       sound=sound)
    then = "" if draft.issued else ", or scan the new device to issue"
    return Outcome(lead.tone, f"{lead.text} Ready: press Complete (Ctrl+Enter){then}.")


def completion_words(receipt: ExchangeReceipt) -> str:
    """What the banner says about a recorded exchange, including R4 and courier follow-ups."""
    o = receipt.outcome
    words = [f"exchange for {receipt.person_name} saved."]
    if o.returned:
        words.append(("Awaiting by courier: " if o.courier else "Returned: ")
                     + ", ".join(o.awaiting_collection if o.courier else o.returned) + ".")
    if o.issued:
        words.append(("Sent by courier: " if o.courier else "Issued: ") + ", ".join(o.issued) + ".")
    if o.courier:
        words.append("Scan the old device in under Collections (Ctrl+4) when it arrives.")
    for e in o.exceptions:
        words.append(f"Exception {e.rule} recorded, authorised by {e.authorised_by}: {e.reason}.")
    if o.lost:
        words.append("Written off as lost: " + ", ".join(o.lost) + ".")
    for tag in o.reclamation_tasks:
        words.append(f"R4 — reclamation task raised for sole-use desktop {tag}: collect it and "
                     "scan it in under Reclamation (Ctrl+3).")
    words.append("Scan the next badge.")
    return " ".join(words)
