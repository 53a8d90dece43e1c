"""REST routes (SPEC 9.1): customers, consent, the pre-call gate, call records, suppression, audit.

Every route needs an API key whose roles hold the route's permission (agent/server/roles.py).
Store calls run in a worker thread. Answers: 201 created/granted; 403 `{"refused": true,
"reason": code}` when the gate refuses a call; errors carry a stable `error` code and one
sentence (agent/server/errors.py): 400, 401, 403 `forbidden`, 404, 409, 413, 422, and 503
`store_unavailable` only when the store cannot be reached or written (fail closed), or 503
`not_ready` from POST /v1/calls while the server is still warming up (agent.warmup).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from agent.compliance.phone import InvalidPhone
from agent.server.auth import Principal, require, require_any, require_api_key
from agent.server.errors import ApiError, store_unavailable
from agent.server.roles import Permission
from agent.server.schemas import (
    AuditVerifyOut,
    CallGrantOut,
    CallIn,
    CallOut,
    ConsentIn,
    ConsentOut,
    CustomerIn,
    CustomerOut,
    DialResultIn,
    DialResultOut,
    ImportOut,
    RefusalOut,
    SuppressionCheck,
    SuppressionIn,
    SuppressionOut,
    SuppressionRemoved,
)
from agent.store import CallGrant, CallRequest, Conflict, InvalidData, NotFound, Store, StoreUnavailable
from agent.store.errors import WrongState
from agent.transports.closes import Refused

T = TypeVar("T")
log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])
CallsKey = Annotated[Principal, Depends(require(Permission.CALLS))]
CallId = Annotated[str, Path(min_length=1, max_length=64)]
PhoneIn = Annotated[str, Path(min_length=3, max_length=32)]


def _store(request: Request) -> Store:
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise store_unavailable("no store is configured on this server")
    return store


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call in a thread, mapping store errors to HTTP answers."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except StoreUnavailable as exc:
        log.error("store unavailable: %s", type(exc.__cause__ or exc).__name__)
        raise store_unavailable() from exc
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except Conflict as exc:
        raise ApiError(409, "already_exists", "that record already exists") from exc
    except WrongState as exc:
        raise ApiError(409, "wrong_state", str(exc)) from exc
    except InvalidPhone as exc:
        raise ApiError(400, "invalid_phone", f"{exc}; give a number such as +14155550123") from exc
    except InvalidData as exc:
        raise ApiError(422, "invalid_value", str(exc)) from exc
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from exc


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("/customers", status_code=201, response_model=CustomerOut)
async def register_customer(body: CustomerIn, request: Request, who: CallsKey) -> Any:
    """Register a customer who may be called (phone stored as keyed hash + masked form)."""
    store = _store(request)
    cid = await _run(
        store.register_customer,
        phone=body.phone,
        name=body.name,
        timezone=body.timezone,
        now=_now(),
        locale=body.locale,
        jurisdiction=body.jurisdiction,
        lawful_basis=dict(body.lawful_basis),
        external_ref=body.external_ref,
    )
    return CustomerOut(customer_id=cid, phone=await _run(store.masked, body.phone, body.jurisdiction))


@router.post("/customers/{customer_id}/consents", status_code=201, response_model=ConsentOut)
async def add_consent(customer_id: CallId, body: ConsentIn, request: Request, who: CallsKey) -> Any:
    """Record a customer's consent for a purpose (needed for marketing calls)."""
    cid = await _run(
        _store(request).add_consent,
        customer_id,
        body.purpose,
        now=_now(),
        source=body.source,
        granted_at=body.granted_at,
        expires_at=body.expires_at,
        evidence=body.evidence,
    )
    return ConsentOut(consent_id=cid)


@router.post(
    "/calls",
    status_code=201,
    response_model=CallGrantOut,
    responses={403: {"model": RefusalOut}, 503: {"model": RefusalOut}},
)
async def request_call(body: CallIn, request: Request, who: CallsKey) -> Any:
    """The pre-call gate: a call id and a short-lived transport token, or a refusal with its reason."""
    if not body.customer_id and not body.phone:
        raise ApiError(422, "invalid_request", "give customer_id or phone")
    runtime: Any = getattr(request.app.state, "runtime", None)  # a Runtime, or None for a store-only app
    if hasattr(runtime, "until_warm"):  # no grant for a call a cold server would answer late
        try:
            await runtime.until_warm("the call request")
        except Refused as exc:
            raise ApiError(503, "not_ready", str(exc), headers={"Retry-After": "5"},
                           extra={"refused": True, "reason": "not_ready"}) from None
    settings = getattr(request.app.state, "settings", None)
    use_case = body.use_case or (settings.dialogue.default_script if settings else "repayment_reminder")
    req = CallRequest(
        purpose=body.purpose,
        use_case=use_case,
        customer_id=body.customer_id,
        phone=body.phone,
        debt_id=body.debt_id,
        method=body.method,
        locale=body.locale,
        jurisdiction=body.jurisdiction,
        script_id=body.script_id,
        script_version=body.script_version,
        slots=dict(body.slots),
    )
    result = await _run(_store(request).request_call, req)  # the time is read inside the subject lock
    if isinstance(result, CallGrant):
        if runtime is not None:  # render the greeting before it rings
            runtime.prepare_call(body.use_case, body.locale, dict(body.slots))
        return CallGrantOut(call_id=result.call_id, token=result.token, expires_at=result.expires_at)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.refusal(result.reason)
    return JSONResponse(RefusalOut(reason=result.reason, detail=result.detail).model_dump(), status_code=403)


@router.get("/calls/{call_id}", response_model=CallOut)
async def get_call(call_id: CallId, request: Request, who: CallsKey) -> Any:
    """A call's outcome, redacted transcript (its text only for keys with audit-read) and timings."""
    call = await _run(_store(request).get_call, call_id, decrypt=who.may(Permission.AUDIT_READ))
    return CallOut.from_record(call)


@router.post("/calls/{call_id}/dial-result", response_model=DialResultOut)
async def report_dial_result(call_id: CallId, body: DialResultIn, request: Request, who: CallsKey) -> Any:
    """A dialer reports what became of a granted call it placed that never connected to the agent.

    The grant then counts as an attempt without a conversation (an unused grant that expires
    with no report does not count).
    """
    await _run(_store(request).report_dial, call_id, body.result, _now(), by=who.name)
    return DialResultOut(call_id=call_id, outcome=body.result)


@router.post("/suppressions", status_code=201, response_model=SuppressionOut)
async def add_suppression(
    body: SuppressionIn,
    request: Request,
    who: Annotated[Principal, Depends(require(Permission.SUPPRESSION_WRITE))],
) -> Any:
    """Put a number on the suppression list (scope all or marketing)."""
    masked = await _run(_store(request).suppress, body.phone, body.scope, body.source, _now())
    return SuppressionOut(phone=masked, scope=body.scope)


@router.delete("/suppressions/{phone}", response_model=SuppressionRemoved)
async def remove_suppression(
    phone: PhoneIn,
    request: Request,
    who: Annotated[Principal, Depends(require(Permission.SUPPRESSION_REMOVE))],
    reason: str = Query(min_length=3, max_length=500, description="why the number may be called again"),
    scope: str | None = Query(default=None, pattern="^(all|marketing)$"),
) -> Any:
    """Take a number off the suppression list (one scope, or all); needs a reason, and is audited."""
    if "\x00" in reason:
        raise ApiError(422, "invalid_request", "field 'reason': must not contain a NUL character")
    count = await _run(
        _store(request).unsuppress, phone, _now(), scope, f"api:{who.name}", reason=reason
    )
    return SuppressionRemoved(removed=count)


@router.get("/suppressions/check", response_model=SuppressionCheck)
async def check_suppression(
    request: Request,
    who: Annotated[Principal, Depends(require_any(Permission.CALLS, Permission.SUPPRESSION_WRITE))],
    phone: str = Query(min_length=3, max_length=32),
    purpose: str = Query(default="servicing", pattern="^(servicing|marketing)$"),
) -> Any:
    """Whether a call for `purpose` to this number would be refused as suppressed."""
    store = _store(request)
    scopes = await _run(store.suppression_scopes, phone)
    suppressed = "all" in scopes or (purpose == "marketing" and "marketing" in scopes)
    masked = await _run(store.masked, phone)
    return SuppressionCheck(phone=masked, suppressed=suppressed, scopes=sorted(scopes))


@router.post(
    "/suppressions/import",
    response_model=ImportOut,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_suppressions(
    request: Request, who: Annotated[Principal, Depends(require(Permission.SUPPRESSION_WRITE))]
) -> Any:
    """Import a CSV body (UTF-8) of `phone[,scope[,source]]` rows, all or nothing."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "csv_not_utf8", f"the CSV is not UTF-8 (byte {exc.start}); save it as UTF-8 and resend it"
        ) from exc
    try:
        count = await _run(_store(request).import_suppression_csv, text, _now(), f"csv:{who.name}")
    except ApiError as exc:
        if exc.code == "bad_request":
            exc.code = "invalid_csv"
        raise
    return ImportOut(imported=count)


@router.post("/audit/verify", response_model=AuditVerifyOut)
async def verify_audit(
    request: Request, who: Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
) -> Any:
    """Verify the audit hash chain; names the first bad event."""
    ok, seq, detail = await _run(_store(request).verify_audit)
    return AuditVerifyOut(ok=ok, first_bad_seq=seq, detail=detail)
