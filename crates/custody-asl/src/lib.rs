//! An Amazon States Language engine: parse, validate and execute Step Functions definitions locally with a pluggable task invoker and clock.
