use super::*;
use serde_json::json;

fn expr(text: &str) -> Expr {
    let mut errors = Vec::new();
    let e = Expr::parse(text, "/X", &mut errors).expect("parses");
    assert!(errors.is_empty(), "{errors:?}");
    e
}

fn eval(text: &str, input: Value, vars: &Map<String, Value>) -> Result<Value, EvalError> {
    let env = Env::new(
        &input,
        &json!({"Execution": {"Id": "arn:aws-cn:states:cn-north-1:1:execution:m:e"}}),
        vars,
        "aws-cn",
    );
    expr(text).eval(&env, "Output")
}

#[test]
fn states_variables_and_numbers_as_javascript_prints_them() {
    let mut vars = Map::new();
    vars.insert("x".into(), json!({"n": 2}));
    assert_eq!(
        eval("{% {'sum': $states.input.a + $x.n, 'half': 3 / 2, 'name': $states.context.Execution.Id} %}", json!({"a": 1}), &vars).unwrap(),
        json!({"sum": 3, "half": 1.5, "name": "arn:aws-cn:states:cn-north-1:1:execution:m:e"})
    );
}

#[test]
fn step_functions_functions() {
    let vars = Map::new();
    assert_eq!(
        eval("{% $partition() %}", json!({}), &vars).unwrap(),
        json!("aws-cn")
    );
    assert_eq!(
        eval("{% $range(0, 10, 5) %}", json!({}), &vars).unwrap(),
        json!([0, 5, 10])
    );
    assert_eq!(
        eval("{% $range(3, 1, -1) %}", json!({}), &vars).unwrap(),
        json!([3, 2, 1])
    );
    assert_eq!(
        eval("{% $hash('abc', 'SHA-256') %}", json!({}), &vars).unwrap(),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        eval("{% $hash('abc', 'MD5') %}", json!({}), &vars).unwrap(),
        json!("900150983cd24fb0d6963f7d28e17f72")
    );
    assert_eq!(
        eval("{% $parse('{\"a\":[1,2]}').a[1] %}", json!({}), &vars).unwrap(),
        json!(2)
    );
    let u = eval("{% $uuid() %}", json!({}), &vars).unwrap();
    assert_eq!(u.as_str().map(str::len), Some(36));
    let r = eval("{% $random() %}", json!({}), &vars)
        .unwrap()
        .as_f64()
        .unwrap();
    assert!((0.0..1.0).contains(&r));
    assert_eq!(
        eval("{% $random(7) %}", json!({}), &vars).unwrap(),
        eval("{% $random(7) %}", json!({}), &vars).unwrap()
    );
}

#[test]
fn failures_are_query_evaluation_errors_naming_the_field() {
    let vars = Map::new();
    let e = eval("{% $states.input.a + 'x' %}", json!({"a": 1}), &vars).unwrap_err();
    assert_eq!(e.error, names::QUERY_EVALUATION_ERROR);
    assert!(e.message.starts_with("The JSONata expression '$states.input.a + 'x'' specified for the field 'Output' threw an error during evaluation. T2002"), "{}", e.message);
    let e = eval("{% $states.input.missing %}", json!({}), &vars).unwrap_err();
    assert_eq!(
        e.message,
        "The JSONata expression '$states.input.missing' specified for the field 'Output' returned nothing (undefined)."
    );
    let e = eval("{% $eval('1') %}", json!({}), &vars).unwrap_err();
    assert!(e.message.contains("use $parse"), "{}", e.message);
    assert!(eval("{% $hash('a', 'CRC32') %}", json!({}), &vars).is_err());
}

#[test]
fn templates_evaluate_nested_expressions_and_report_parse_errors() {
    let mut errors = Vec::new();
    let t = JTemplate::compile(
        &json!({"static": "{%x", "list": [1, "{% $states.input.a %}"], "deep": {"v": "{% $x %}"}}),
        "/A",
        &mut errors,
    );
    assert!(errors.is_empty());
    let mut vars = Map::new();
    vars.insert("x".into(), json!(true));
    let env = Env::new(&json!({"a": "A"}), &json!({}), &vars, "aws");
    assert_eq!(
        t.render(&env, "Arguments").unwrap(),
        json!({"static": "{%x", "list": [1, "A"], "deep": {"v": true}})
    );
    JTemplate::compile(
        &json!({"bad": "{% $states.input. %}"}),
        "/States/S/Arguments",
        &mut errors,
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pointer, "/States/S/Arguments/bad");
}

#[test]
fn partition_of_an_arn() {
    assert_eq!(
        partition_of("arn:aws-us-gov:states:us-gov-west-1:1:execution:m:e"),
        "aws-us-gov"
    );
    assert_eq!(partition_of("local"), "aws");
}
