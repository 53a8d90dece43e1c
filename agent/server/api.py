"""REST routes (SPEC 9.1): customers, consent, the pre-call gate, call records, suppression, audit.

Every route needs X-API-Key. Store calls run in a worker thread. Status codes:
201 created/granted; 403 `{"refused": true, "reason": code}` when the gate refuses a call;
503 `{"refused": true, "reason": "store_unavailable"}` when the store cannot be written
(fail closed); 404 unknown id; 409 duplicate; 400 bad phone / CSV; 401 no or wrong key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from agent.compliance.phone import InvalidPhone
from agent.server.auth import require_api_key
from agent.server.schemas import (
    AuditVerifyOut,
    CallGrantOut,
    CallIn,
    CallOut,
    ConsentIn,
    ConsentOut,
    CustomerIn,
    CustomerOut,
    ImportOut,
    RefusalOut,
    SuppressionCheck,
    SuppressionIn,
    SuppressionOut,
    SuppressionRemoved,
)
from agent.store import CallGrant, CallRequest, Conflict, NotFound, Store, StoreUnavailable

T = TypeVar("T")

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


class ApiError(Exception):
    """An error answer with a status code and a JSON body."""

    def __init__(self, code: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.code, self.body = code, body


def _store(request: Request) -> Store:
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise ApiError(503, {"refused": True, "reason": "store_unavailable", "detail": "no store configured"})
    return store


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call in a thread, mapping store errors to HTTP answers."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except StoreUnavailable as exc:
        raise ApiError(503, {"refused": True, "reason": "store_unavailable", "detail": str(exc)}) from exc
    except NotFound as exc:
        raise ApiError(404, {"detail": str(exc)}) from exc
    except Conflict as exc:
        raise ApiError(409, {"detail": "already exists"}) from exc
    except (InvalidPhone, ValueError) as exc:
        raise ApiError(400, {"detail": str(exc)}) from exc


def _now() -> datetime:
    return datetime.now(UTC)


def _answer(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.code)


@router.post("/customers", status_code=201, response_model=CustomerOut)
async def register_customer(body: CustomerIn, request: Request) -> Any:
    """Register a customer who may be called (phone stored as keyed hash + masked form)."""
    try:
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
        masked = store.masked(body.phone, body.jurisdiction)
    except ApiError as exc:
        return _answer(exc)
    return CustomerOut(customer_id=cid, phone=masked)


@router.post("/customers/{customer_id}/consents", status_code=201, response_model=ConsentOut)
async def add_consent(customer_id: str, body: ConsentIn, request: Request) -> Any:
    """Record a customer's consent for a purpose (needed for marketing calls)."""
    try:
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
    except ApiError as exc:
        return _answer(exc)
    return ConsentOut(consent_id=cid)


@router.post(
    "/calls",
    status_code=201,
    response_model=CallGrantOut,
    responses={403: {"model": RefusalOut}, 503: {"model": RefusalOut}},
)
async def request_call(body: CallIn, request: Request) -> Any:
    """The pre-call gate: a call id and a short-lived transport token, or a refusal with its reason."""
    if not body.customer_id and not body.phone:
        return JSONResponse({"detail": "give customer_id or phone"}, status_code=422)
    req = CallRequest(
        purpose=body.purpose,
        use_case=body.use_case,
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
    try:
        result = await _run(_store(request).request_call, req, _now())
    except ApiError as exc:
        return _answer(exc)
    if isinstance(result, CallGrant):
        if runtime := getattr(request.app.state, "runtime", None):  # render the greeting before it rings
            runtime.prepare_call(body.use_case, body.locale, dict(body.slots))
        return CallGrantOut(call_id=result.call_id, token=result.token, expires_at=result.expires_at)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.refusal(result.reason)
    return JSONResponse(RefusalOut(reason=result.reason, detail=result.detail).model_dump(), status_code=403)


@router.get("/calls/{call_id}", response_model=CallOut)
async def get_call(call_id: str, request: Request) -> Any:
    """A call's outcome, redacted transcript and timings."""
    try:
        return await _run(_store(request).get_call, call_id)
    except ApiError as exc:
        return _answer(exc)


@router.post("/suppressions", status_code=201, response_model=SuppressionOut)
async def add_suppression(body: SuppressionIn, request: Request) -> Any:
    """Put a number on the suppression list (scope all or marketing)."""
    try:
        masked = await _run(_store(request).suppress, body.phone, body.scope, body.source, _now())
    except ApiError as exc:
        return _answer(exc)
    return SuppressionOut(phone=masked, scope=body.scope)


@router.delete("/suppressions/{phone}", response_model=SuppressionRemoved)
async def remove_suppression(
    phone: str, request: Request, scope: str | None = Query(default=None, pattern="^(all|marketing)$")
) -> Any:
    """Take a number off the suppression list (one scope, or every scope when none is given)."""
    try:
        count = await _run(_store(request).unsuppress, phone, _now(), scope)
    except ApiError as exc:
        return _answer(exc)
    return SuppressionRemoved(removed=count)


@router.get("/suppressions/check", response_model=SuppressionCheck)
async def check_suppression(
    request: Request,
    phone: str = Query(...),
    purpose: str = Query(default="servicing", pattern="^(servicing|marketing)$"),
) -> Any:
    """Whether a call for `purpose` to this number would be refused as suppressed."""
    try:
        store = _store(request)
        scopes = await _run(store.suppression_scopes, phone)
        masked = store.masked(phone)
    except ApiError as exc:
        return _answer(exc)
    suppressed = "all" in scopes or (purpose == "marketing" and "marketing" in scopes)
    return SuppressionCheck(phone=masked, suppressed=suppressed, scopes=sorted(scopes))


@router.post(
    "/suppressions/import",
    response_model=ImportOut,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_suppressions(request: Request) -> Any:
    """Import a CSV body of `phone[,scope[,source]]` rows, all or nothing."""
    text = (await request.body()).decode("utf-8-sig", errors="strict")
    try:
        count = await _run(_store(request).import_suppression_csv, text, _now())
    except ApiError as exc:
        return _answer(exc)
    return ImportOut(imported=count)


@router.post("/audit/verify", response_model=AuditVerifyOut)
async def verify_audit(request: Request) -> Any:
    """Verify the audit hash chain; names the first bad event."""
    try:
        ok, seq, detail = await _run(_store(request).verify_audit)
    except ApiError as exc:
        return _answer(exc)
    return AuditVerifyOut(ok=ok, first_bad_seq=seq, detail=detail)
