//! The parsed, validated form of a definition: what the executor walks. Built only by
//! [`crate::Definition::from_str`], so every value here has already been checked.

use crate::choice::Rule;
use crate::intrinsics::Call;
use crate::jsonata::{Expr, JTemplate};
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

/// A number given literally, by a reference path into the state input, or (JSONata) by an
/// expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NumberOrPath<T> {
    Value(T),
    Path(JsonPath),
    Expr(Expr),
}

/// The query language a state's fields are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    JsonPath,
    Jsonata,
}

/// `Assign`: variable name -> value, as a JSONPath template (`name.$` fields) or JSONata.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Assign {
    Path(Template),
    Jsonata(JTemplate),
}

/// One Choice rule: its test, where it goes, and (if it matches) what it assigns and outputs.
#[derive(Debug, Clone)]
pub(crate) struct ChoiceBranch {
    pub test: Test,
    pub next: String,
    pub assign: Option<Assign>,
    pub output: Option<JTemplate>,
}

/// A Choice rule's test: a JSONPath rule or a JSONata `Condition`.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Rule(Rule),
    Condition(Expr),
}

/// A string given literally, by a path, or by an intrinsic call (Fail's Error/Cause).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StringSource {
    Value(String),
    Path(JsonPath),
    Intrinsic(Box<Call>),
    /// JSONata: a string that may be or contain `{% %}`.
    Jsonata(JTemplate),
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
    /// Whether some template or path of this state reads `$$` or a variable (so the executor
    /// builds the context document).
    pub uses_context: bool,
    /// The query language of this state.
    pub lang: Lang,
    /// JSONata `Arguments`.
    pub arguments: Option<JTemplate>,
    /// JSONata `Output`.
    pub output: Option<JTemplate>,
    /// `Assign` (both languages).
    pub assign: Option<Assign>,
}

/// The type-specific part of a state.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(Task),
    Choice {
        choices: Vec<ChoiceBranch>,
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
    /// JSONata `Seconds` (`seconds: true`) or `Timestamp` given as an expression.
    Expr {
        seconds: bool,
        expr: Expr,
    },
}

/// Map fields.
#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: PathField,
    pub item_selector: Option<Template>,
    /// JSONata `Items` (an array, or an expression yielding one).
    pub items: Option<JTemplate>,
    /// JSONata `ItemSelector`.
    pub item_selector_jsonata: Option<JTemplate>,
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

impl Assign {
    /// Whether evaluating it reads `$$` or a variable (JSONPath), so the executor must build the
    /// context document. JSONata states always build it.
    pub(crate) fn uses_context(&self) -> bool {
        match self {
            Assign::Path(t) => t.uses_context(),
            Assign::Jsonata(_) => false,
        }
    }
}
