//! The parsed, validated form of a definition: what the executor walks. Built only by
//! [`crate::Definition::from_str`], so every value here has already been checked.

use crate::choice::Rule;
use crate::intrinsics::Call;
use crate::paths::JsonPath;
use crate::paths::template::Template;
use crate::retry::{Catcher, Retrier};
use serde_json::Value;
use std::collections::HashMap;
use time::OffsetDateTime;

/// A set of states with a start: the top level, a Parallel branch, or a Map item processor.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub start_at: String,
    pub states: HashMap<String, State>,
}

/// `InputPath`/`OutputPath`/`ResultPath`/`ItemsPath`: absent, `null`, or a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathField {
    Default,
    Null,
    Path(JsonPath),
}

/// Where a state goes when it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transition {
    Next(String),
    End,
}

/// A number given literally or by a reference path into the state input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NumberOrPath<T> {
    Value(T),
    Path(JsonPath),
}

/// A string given literally, by a path, or by an intrinsic call (Fail's Error/Cause).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StringSource {
    Value(String),
    Path(JsonPath),
    Intrinsic(Box<Call>),
}

/// One state.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: String,
    pub kind: Kind,
    pub input_path: PathField,
    pub output_path: PathField,
    pub result_path: PathField,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// Whether some template or path of this state reads `$$` (so the executor builds it).
    pub uses_context: bool,
}

/// The type-specific part of a state.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(Task),
    Choice {
        choices: Vec<(Rule, String)>,
        default: Option<String>,
    },
    Wait(Wait),
    Succeed,
    Fail {
        error: Option<StringSource>,
        cause: Option<StringSource>,
    },
    Parallel {
        branches: Vec<Machine>,
    },
    Map(Box<MapSpec>),
}

impl Kind {
    /// The `Type` string, used for history event names.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task(_) => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// Task fields.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub resource: String,
    pub timeout: Option<NumberOrPath<u64>>,
    pub heartbeat: Option<NumberOrPath<u64>>,
}

/// Wait fields (exactly one is given).
#[derive(Debug, Clone)]
pub(crate) enum Wait {
    Seconds(u64),
    SecondsPath(JsonPath),
    Timestamp(OffsetDateTime),
    TimestampPath(JsonPath),
}

/// Map fields.
#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: PathField,
    pub item_selector: Option<Template>,
    pub processor: Machine,
    pub max_concurrency: Option<NumberOrPath<u64>>,
    pub tolerated_count: Option<NumberOrPath<u64>>,
    pub tolerated_percentage: Option<NumberOrPath<f64>>,
    pub batcher: Option<Batcher>,
}

/// `ItemBatcher`.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    pub max_items: Option<NumberOrPath<u64>>,
    pub max_bytes: Option<NumberOrPath<u64>>,
    pub batch_input: Option<Template>,
}
