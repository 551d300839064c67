//! The custody domain: case record, findings and triggers, identifier validation, triage and guardrail planning, step error names. No I/O.
