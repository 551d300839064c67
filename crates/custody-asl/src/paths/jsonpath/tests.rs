use super::*;
use serde_json::json;

fn read(p: &str, v: &Value) -> Result<Value, PathNotFound> {
    JsonPath::parse(p).unwrap().read(v)
}

#[test]
fn definite_paths_return_the_value_or_a_jayway_error() {
    let doc = json!({"a": {"b": [10, 20, {"c": "x"}]}});
    assert_eq!(read("$.a.b[1]", &doc).unwrap(), json!(20));
    assert_eq!(read("$['a']['b'][-1].c", &doc).unwrap(), json!("x"));
    assert_eq!(read("$", &doc).unwrap(), doc);
    assert_eq!(
        read("$.a.z", &doc).unwrap_err().0,
        "No results for path: $['a']['z']"
    );
    assert_eq!(
        read("$.z.y", &doc).unwrap_err().0,
        "Missing property in path $['z']"
    );
    assert_eq!(
        read("$.a.b[7]", &doc).unwrap_err().0,
        "No results for path: $['a']['b'][7]"
    );
    assert!(
        read("$.a.b.c", &doc)
            .unwrap_err()
            .0
            .starts_with("Expected to find an object with property ['c'] in path $['a']['b']")
    );
}

#[test]
fn indefinite_paths_return_arrays() {
    let doc = json!({"items": [{"n": 1, "k": "a"}, {"n": 2}, {"n": 3, "k": "b"}], "o": {"x": {"k": "c"}}});
    assert_eq!(read("$.items[*].n", &doc).unwrap(), json!([1, 2, 3]));
    assert_eq!(read("$.items[*].k", &doc).unwrap(), json!(["a", "b"]));
    assert_eq!(read("$..k", &doc).unwrap(), json!(["a", "b", "c"]));
    assert_eq!(read("$.items[0:2].n", &doc).unwrap(), json!([1, 2]));
    assert_eq!(read("$.items[-1:].n", &doc).unwrap(), json!([3]));
    assert_eq!(read("$.items[0,2].n", &doc).unwrap(), json!([1, 3]));
    assert_eq!(read("$.items[?(@.n > 1)].n", &doc).unwrap(), json!([2, 3]));
    assert_eq!(
        read("$.items[?(@.k == 'b' || @.n == 1)].n", &doc).unwrap(),
        json!([1, 3])
    );
    assert_eq!(read("$.items[?(@.k)].n", &doc).unwrap(), json!([1, 3]));
    assert_eq!(read("$.items[*].missing", &doc).unwrap(), json!([]));
    assert_eq!(
        read("$.missing[*]", &doc).unwrap_err().0,
        "Missing property in path $['missing']"
    );
}

#[test]
fn classification() {
    assert!(JsonPath::parse("$.a[0].b").unwrap().is_reference());
    assert!(!JsonPath::parse("$.a[*]").unwrap().is_reference());
    assert_eq!(
        JsonPath::parse("$$.Execution.Id").unwrap().root(),
        Root::Context
    );
    assert!(JsonPath::parse("a.b").is_err());
    assert!(JsonPath::parse("$.a[").is_err());
    assert!(JsonPath::parse("$.").is_err());
}
