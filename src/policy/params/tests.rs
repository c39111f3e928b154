//! Input-parameter checks (behaviour.md §6.5).

use super::*;
use crate::http::parse::head_for_tests as head;
use crate::route::path::Params;

fn route() -> RouteMatch {
    RouteMatch {
        group: 0,
        stage: 0,
        api: 0,
        params: Params::default(),
        remainder: None,
    }
}

fn param(name: &str, location: Location) -> InputParam {
    InputParam {
        name: name.into(),
        location,
        kind: ParamType::String,
        required: false,
        default: None,
        min_len: None,
        max_len: None,
        capture: 0,
        to_path: false,
    }
}

fn fault(r: Result<Inputs, GatewayError>) -> ParamFault {
    match r {
        Err(GatewayError::InvalidParameter { fault, .. }) => fault,
        other => panic!("{other:?}"),
    }
}

#[test]
fn header_and_query_values_are_found_case_insensitively() {
    let h = head("GET /x?TEST03=x%79z HTTP/1.1\r\nHost: a\r\nTest02: def\r\n\r\n");
    let params = [
        param("test02", Location::Header),
        param("test03", Location::Query),
    ];
    let inputs = check(&params, &h, &route()).unwrap();
    let v = inputs.get(0, &params, &h).unwrap();
    assert_eq!((v.bytes, v.form), (&b"def"[..], Form::Plain));
    let v = inputs.get(1, &params, &h).unwrap();
    assert_eq!(v.bytes, b"x%79z");
    assert_eq!(&*v.decoded(), b"xyz");
}

#[test]
fn missing_required_parameter_is_rejected() {
    let h = head("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut p = param("id", Location::Query);
    p.required = true;
    assert_eq!(fault(check(&[p], &h, &route())), ParamFault::Missing);
}

#[test]
fn absent_optional_parameter_takes_its_default() {
    let h = head("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut p = param("page", Location::Query);
    p.default = Some((*b"1").into());
    let params = [p, param("other", Location::Header)];
    let inputs = check(&params, &h, &route()).unwrap();
    assert!(inputs.is_default(0));
    assert_eq!(inputs.get(0, &params, &h).unwrap().bytes, b"1");
    assert_eq!(inputs.get(1, &params, &h), None);
}

#[test]
fn lengths_count_characters_of_the_decoded_value() {
    let mut p = param("name", Location::Query);
    p.min_len = Some(2);
    p.max_len = Some(3);
    // "é" is one character, two bytes, six encoded bytes.
    let h = head("GET /x?name=%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        fault(check(std::slice::from_ref(&p), &h, &route())),
        ParamFault::TooShort
    );
    let h = head("GET /x?name=%C3%A9%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(check(std::slice::from_ref(&p), &h, &route()).is_ok());
    let h = head("GET /x?name=abcd HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(fault(check(&[p], &h, &route())), ParamFault::TooLong);
}

#[test]
fn number_parameters_reject_non_numbers() {
    let mut p = param("n", Location::Header);
    p.kind = ParamType::Number;
    let ok = head("GET /x HTTP/1.1\r\nHost: a\r\nn: -12.5e3\r\n\r\n");
    assert!(check(std::slice::from_ref(&p), &ok, &route()).is_ok());
    let bad = head("GET /x HTTP/1.1\r\nHost: a\r\nn: 12abc\r\n\r\n");
    assert_eq!(fault(check(&[p], &bad, &route())), ParamFault::NotANumber);
}

#[test]
fn encoded_line_breaks_are_refused() {
    // A decoded CR LF mapped into a header would split it.
    let h = head("GET /x?v=a%0D%0AX-Evil:%201 HTTP/1.1\r\nHost: a\r\n\r\n");
    let p = param("v", Location::Query);
    assert_eq!(
        fault(check(&[p], &h, &route())),
        ParamFault::ControlCharacter
    );
}

#[test]
fn number_grammar() {
    for ok in ["0", "12", "-3", "1.5", "1e9", "2E-3", "0.5"] {
        assert!(is_number(ok.as_bytes()), "{ok}");
    }
    for bad in [
        "", "-", "1.", ".5", "1e", "0x10", "NaN", "inf", "1 ", "+1", "007",
    ] {
        assert!(!is_number(bad.as_bytes()), "{bad}");
    }
}

#[test]
fn repeated_parameters_are_refused() {
    // regression (review): only the first copy was checked, every copy passed on.
    let h = head("GET /p?n=1&N=abcdef HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        fault(check(&[param("n", Location::Query)], &h, &route())),
        ParamFault::Repeated
    );
    let h = head("GET /p HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
    assert_eq!(
        fault(check(&[param("x-a", Location::Header)], &h, &route())),
        ParamFault::Repeated
    );
}

#[test]
fn a_query_key_without_value_is_an_empty_value() {
    // regression (review): `?test03` panicked the worker computing the span.
    let h = head("GET /p?x=1&test03 HTTP/1.1\r\nHost: a\r\n\r\n");
    let params = [param("test03", Location::Query)];
    let inputs = check(&params, &h, &route()).unwrap();
    assert_eq!(inputs.get(0, &params, &h).unwrap().bytes, b"");
}

#[test]
fn dot_segments_cannot_be_mapped_into_a_path() {
    let mut p = param("seg", Location::Header);
    p.to_path = true;
    for v in [".", ".."] {
        let h = head(&format!("GET /p HTTP/1.1\r\nHost: a\r\nseg: {v}\r\n\r\n"));
        assert_eq!(
            fault(check(std::slice::from_ref(&p), &h, &route())),
            ParamFault::DotSegment
        );
    }
    let h = head("GET /p?seg=%2e%2E HTTP/1.1\r\nHost: a\r\n\r\n");
    let mut q = p.clone();
    q.location = Location::Query;
    assert_eq!(fault(check(&[q], &h, &route())), ParamFault::DotSegment);
}
