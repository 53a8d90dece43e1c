"""From how a call ended to the campaign's result (pure).

The gateway knows when nobody talked (busy, no answer, failed, a machine); once the call
was answered and the media connected, the call's own outcome (recorded by the session)
decides: a promise, an opt-out, a wrong person, a dispute, or a contact with no final word.
"""

from __future__ import annotations

from agent.campaign.model import Result

OUTCOME_RESULT: dict[str, Result] = {
    "promise_to_pay": Result.promise,
    "already_paid": Result.paid,
    "opted_out": Result.opt_out,
    "wrong_person": Result.wrong_party,
    "dispute": Result.dispute,
    "no_response": Result.no_answer,
    "script_error": Result.failed,
    "voicemail": Result.voicemail,
    "machine": Result.voicemail,
    # the session's answer screening heard a carrier announcement and hung up in silence
    "carrier": Result.carrier,
    "busy": Result.busy,
    "not_in_service": Result.not_in_service,
    "hangup_before_verdict": Result.no_answer,  # hung up before the agent said a word: nobody talked
}


def result_of(gateway_result: Result | None, call_outcome: str | None) -> Result:
    """The attempt's result: the gateway's when it has one, else the call's, else `failed`."""
    if gateway_result is not None:
        return gateway_result
    if call_outcome:
        return OUTCOME_RESULT.get(call_outcome, Result.contact)
    # answered, but the media never reached a session, or the session left no outcome:
    # nothing proves a conversation, so none is counted (and no rest period starts)
    return Result.failed
