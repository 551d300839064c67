//! The forensic step handlers (triage, acquisition, isolation, investigation, report, release), written against capability ports.
