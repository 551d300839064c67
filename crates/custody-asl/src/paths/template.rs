//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`): JSON copied as-is except
//! fields whose name ends in `.$`, whose string value is a path or an intrinsic call evaluated
//! against the input (or the context object for `$$`).

use super::jsonpath::{JsonPath, Root};
use crate::error::{EvalError, ValidationError, ptr};
use crate::intrinsics::{self, Call};
use serde_json::{Map, Value};

/// A compiled payload template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    /// Copied as-is.
    Literal(Value),
    /// An object with at least one dynamic field somewhere below it.
    Object(Vec<(String, Node)>),
    /// An array with at least one dynamic element somewhere below it.
    Array(Vec<Template>),
}

/// One field of a template object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Static(Template),
    Path { field: String, path: JsonPath },
    Intrinsic { field: String, call: Box<Call> },
}

impl Template {
    /// Compiles `value`; problems are pushed onto `errors` with pointers below `pointer`.
    pub(crate) fn compile(value: &Value, pointer: &str, errors: &mut Vec<ValidationError>) -> Self {
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                let mut dynamic = false;
                for (k, v) in map {
                    let p = ptr(pointer, k);
                    if let Some(stripped) = k.strip_suffix(".$") {
                        dynamic = true;
                        let node = match v.as_str() {
                            Some(s) => compile_dynamic(k, s, &p, errors),
                            None => {
                                errors.push(invalid_dynamic(k, &p));
                                None
                            }
                        };
                        if let Some(node) = node {
                            fields.push((stripped.to_owned(), node));
                        }
                    } else {
                        let t = Template::compile(v, &p, errors);
                        dynamic |= !matches!(t, Template::Literal(_));
                        fields.push((k.clone(), Node::Static(t)));
                    }
                }
                if dynamic {
                    Template::Object(fields)
                } else {
                    Template::Literal(value.clone())
                }
            }
            Value::Array(items) => {
                let ts: Vec<Template> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Template::compile(v, &ptr(pointer, i), errors))
                    .collect();
                if ts.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Template::Literal(value.clone())
                } else {
                    Template::Array(ts)
                }
            }
            other => Template::Literal(other.clone()),
        }
    }

    /// Whether rendering reads the context object (so the executor must build it).
    pub(crate) fn uses_context(&self) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Array(ts) => ts.iter().any(Template::uses_context),
            Template::Object(fields) => fields.iter().any(|(_, n)| match n {
                Node::Static(t) => t.uses_context(),
                Node::Path { path, .. } => path.root() != Root::Input,
                Node::Intrinsic { call, .. } => call.uses_context(),
            }),
        }
    }

    /// Renders the template.
    ///
    /// # Errors
    /// `States.Runtime` when a definite path finds nothing; intrinsic failures as they come.
    pub(crate) fn render(&self, input: &Value, context: &Value) -> Result<Value, EvalError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Array(ts) => ts
                .iter()
                .map(|t| t.render(input, context))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (k, node) in fields {
                    let v = match node {
                        Node::Static(t) => t.render(input, context)?,
                        Node::Path { field, path } => {
                            let doc = path.document(input, context);
                            path.read(&doc).map_err(|_| {
                                EvalError::runtime(format!(
                                    "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                    path.as_str(),
                                    field,
                                    shown(&doc)
                                ))
                            })?
                        }
                        Node::Intrinsic { field, call } => {
                            intrinsics::eval(call, input, context, field)?
                        }
                    };
                    out.insert(k.clone(), v);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// How a document appears in a "could not be found in the input" message: the variables
/// document is shown without the engine's internal key.
pub(crate) fn shown(doc: &Value) -> String {
    match doc.get(super::jsonpath::VARS_KEY) {
        Some(_) => super::jsonpath::without_variables(doc).to_string(),
        None => doc.to_string(),
    }
}

fn invalid_dynamic(key: &str, pointer: &str) -> ValidationError {
    ValidationError {
        pointer: pointer.to_owned(),
        reason: format!(
            "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
        ),
    }
}

fn compile_dynamic(
    key: &str,
    text: &str,
    pointer: &str,
    errors: &mut Vec<ValidationError>,
) -> Option<Node> {
    if text.starts_with('$') {
        match JsonPath::parse(text) {
            Ok(path) => {
                return Some(Node::Path {
                    field: key.to_owned(),
                    path,
                });
            }
            Err(e) => {
                errors.push(ValidationError {
                    pointer: pointer.to_owned(),
                    reason: format!("{} ({e})", invalid_dynamic(key, pointer).reason),
                });
                return None;
            }
        }
    }
    if text.starts_with("States.") {
        match intrinsics::parse_call(text) {
            Ok(call) => {
                return Some(Node::Intrinsic {
                    field: key.to_owned(),
                    call: Box::new(call),
                });
            }
            Err(e) => {
                errors.push(ValidationError {
                    pointer: pointer.to_owned(),
                    reason: format!("{} ({e})", invalid_dynamic(key, pointer).reason),
                });
                return None;
            }
        }
    }
    errors.push(invalid_dynamic(key, pointer));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(v: Value) -> Template {
        let mut errors = Vec::new();
        let t = Template::compile(&v, "/P", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        t
    }

    #[test]
    fn renders_paths_context_intrinsics_and_nested_arrays() {
        let t = compile(json!({
            "static": {"k": [1, 2]},
            "a.$": "$.a",
            "all.$": "$.items[*].n",
            "id.$": "$$.Execution.Id",
            "nested": [{"x.$": "$.a"}, 3],
            "fmt.$": "States.Format('{}-{}', $.a, $$.Execution.Id)"
        }));
        assert!(t.uses_context());
        let out = t
            .render(
                &json!({"a": "A", "items": [{"n": 1}, {"n": 2}]}),
                &json!({"Execution": {"Id": "E"}}),
            )
            .unwrap();
        assert_eq!(
            out,
            json!({"static": {"k": [1, 2]}, "a": "A", "all": [1, 2], "id": "E", "nested": [{"x": "A"}, 3], "fmt": "A-E"})
        );
    }

    #[test]
    fn missing_definite_path_is_a_runtime_error_worded_like_aws() {
        let t = compile(json!({"address.$": "$.application.address"}));
        let e = t
            .render(&json!({"flagged": false}), &json!({}))
            .unwrap_err();
        assert_eq!(e.error, crate::error::names::RUNTIME);
        assert_eq!(
            e.message,
            "The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{\"flagged\":false}'"
        );
    }

    #[test]
    fn invalid_dynamic_values_are_validation_errors_with_pointers() {
        let mut errors = Vec::new();
        Template::compile(
            &json!({"a.$": 3, "b": {"c.$": "nope"}, "d.$": "States.Nope()"}),
            "/States/X/Parameters",
            &mut errors,
        );
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/States/X/Parameters/a.$",
                "/States/X/Parameters/b/c.$",
                "/States/X/Parameters/d.$"
            ]
        );
    }
}
