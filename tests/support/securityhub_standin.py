"""Security Hub's BatchUpdateFindings for moto's server, which lacks it (TOOLING.md section 2).

A TEST DOUBLE OF THE SECURITY HUB SERVICE, not of custody: custody-aws's adapter sends the real
request through the SDK; this answers it over moto's stored findings (those imported with
BatchImportFindings), so a whole `--aws` run can close its case and a test can read the note and
workflow status back with GetFindings, as a responder would see them in the console.

Modelled after the API reference for BatchUpdateFindings:
- each FindingIdentifiers entry names a finding by Id AND ProductArn; one that matches nothing is
  returned in UnprocessedFindings with ErrorCode `FindingNotFound` (the call itself succeeds);
- Note needs Text (1-512 characters) and UpdatedBy (1-512); Workflow.Status is one of NEW,
  NOTIFIED, RESOLVED, SUPPRESSED; a request breaking these is `InvalidInputException` (HTTP 400)
  and changes nothing;
- a processed finding gets the note (with UpdatedAt), Workflow.Status, WorkflowState (as Security
  Hub mirrors it) and a new UpdatedAt.
Not modelled: the other updatable fields (severity, confidence, related findings, user-defined
fields...), per-finding size limits, cross-account delegation.
"""

from __future__ import annotations

import datetime
import json

WORKFLOW = {"NEW": "NEW", "NOTIFIED": "ASSIGNED", "RESOLVED": "RESOLVED", "SUPPRESSED": "DEFERRED"}
MAX_IDENTIFIERS = 100
MAX_NOTE = 512


class InvalidInput(Exception):
    """Security Hub's InvalidInputException."""


def validate(body: dict) -> None:
    identifiers = body.get("FindingIdentifiers")
    if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= MAX_IDENTIFIERS:
        raise InvalidInput("FindingIdentifiers must list 1-100 findings")
    for ident in identifiers:
        if not ident.get("Id") or not ident.get("ProductArn"):
            raise InvalidInput("each finding identifier needs Id and ProductArn")
    note = body.get("Note")
    if note is not None:
        for field in ("Text", "UpdatedBy"):
            value = note.get(field)
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_NOTE:
                raise InvalidInput(f"Note.{field} must be 1-{MAX_NOTE} characters")
    workflow = body.get("Workflow")
    if workflow is not None and workflow.get("Status") not in WORKFLOW:
        raise InvalidInput(f"Workflow.Status must be one of {sorted(WORKFLOW)}")


def apply(findings: list, body: dict) -> dict:
    """Updates the stored findings `body` names; the response document."""
    validate(body)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    processed, unprocessed = [], []
    for ident in body["FindingIdentifiers"]:
        found = next(
            (
                f
                for f in findings
                if f.data.get("Id") == ident["Id"] and f.data.get("ProductArn") == ident["ProductArn"]
            ),
            None,
        )
        if found is None:
            unprocessed.append(
                {"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"}
            )
            continue
        if body.get("Note") is not None:
            found.data["Note"] = {**body["Note"], "UpdatedAt": now}
        if body.get("Workflow") is not None:
            status = body["Workflow"]["Status"]
            found.data["Workflow"] = {"Status": status}
            found.data["WorkflowState"] = WORKFLOW[status]
        found.data["UpdatedAt"] = now
        processed.append(ident)
    return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}


def install() -> None:
    """Adds the route and the handler to moto's Security Hub (before the server starts)."""
    from moto.securityhub import urls
    from moto.securityhub.responses import SecurityHubResponse

    def batch_update_findings(self):  # type: ignore[no-untyped-def]
        body = json.loads(self.body or "{}")
        try:
            answer = apply(self.securityhub_backend.findings, body)
        except InvalidInput as e:
            return 400, {"x-amzn-errortype": "InvalidInputException"}, json.dumps(
                {"__type": "InvalidInputException", "Code": "InvalidInputException", "Message": str(e)}
            )
        return json.dumps(answer)

    SecurityHubResponse.batch_update_findings = batch_update_findings
    urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch
