//! Tests of the schema module. Every expected value is spelled out exactly.

use super::*;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::{Compatibility as AvroCompat, SchemaCompatibility};
use semver::Version;
use serde_json::{json, Value};

fn ver(s: &str) -> Version {
    Version::parse(s).expect("test version literal")
}

fn opt(t: FieldType) -> FieldType {
    FieldType::Optional(Box::new(t))
}

fn arr(t: FieldType) -> FieldType {
    FieldType::Array(Box::new(t))
}

fn enm(symbols: &[&str]) -> FieldType {
    FieldType::Enum {
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        default: None,
    }
}

/// v1: `{name}`.
fn user_v1() -> MessageSchema {
    MessageSchema::new("User", ver("1.0.0"))
        .with_description("A user")
        .with_field(Field::new("name", FieldType::String).with_description("display name"))
}

/// v2 = v1 + optional `age` (default null).
fn user_v2() -> MessageSchema {
    let mut s =
        user_v1().with_field(Field::new("age", opt(FieldType::Int)).with_default(json!(null)));
    s.version = ver("1.1.0");
    s
}

/// v3 = v2 + required `email` (no default).
fn user_v3() -> MessageSchema {
    let mut s = user_v2().with_field(Field::new("email", FieldType::String));
    s.version = ver("2.0.0");
    s
}

fn order_schema() -> MessageSchema {
    MessageSchema::new("shop.OrderPlaced", ver("1.0.0"))
        .with_description("An order was placed")
        .with_field(Field::new("order_id", FieldType::String))
        .with_field(Field::new("customer", FieldType::String))
        .with_field(Field::new("quantity", FieldType::Int))
        .with_field(Field::new("unit_price", FieldType::Double))
        .with_field(Field::new("express", FieldType::Boolean))
        .with_field(Field::new("status", enm(&["PENDING", "PAID", "SHIPPED"])))
        .with_field(Field::new("coupon", opt(FieldType::String)))
        .with_field(Field::new("tags", arr(FieldType::String)))
}

fn order_payload() -> Value {
    json!({
        "order_id": "o-1001",
        "customer": "Ada",
        "quantity": 3,
        "unit_price": 19.99,
        "express": true,
        "status": "PAID",
        "coupon": null,
        "tags": ["gift", "fragile"]
    })
}

/// apache-avro's own resolver (used only to cross-check ours).
fn avro_lib_resolve(
    writer: &MessageSchema,
    reader: &MessageSchema,
    bytes: &[u8],
) -> Result<(), String> {
    let ws = to_avro_schema(writer).map_err(|e| e.to_string())?;
    let rs = to_avro_schema(reader).map_err(|e| e.to_string())?;
    let r = GenericDatumReader::builder(&ws)
        .reader_schema(&rs)
        .build()
        .map_err(|e| e.to_string())?;
    let mut input = bytes;
    r.read_value(&mut input)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

// ------------------------------------------------------------------------------------------
// (1) Avro writer/reader resolution

#[test]
fn v1_bytes_read_with_writer_v1_and_reader_v2_fill_age_null() {
    let bytes = encode_avro(&user_v1(), &json!({"name": "Ada"})).unwrap();
    assert_eq!(bytes, vec![0x06, b'A', b'd', b'a']);
    assert_eq!(hex(&bytes), "06 41 64 61");
    let read = decode_avro(&user_v1(), &user_v2(), &bytes).unwrap();
    assert_eq!(read, json!({"name": "Ada", "age": null}));
    // apache-avro's resolver agrees.
    assert_eq!(avro_lib_resolve(&user_v1(), &user_v2(), &bytes), Ok(()));
}

#[test]
fn v1_bytes_decoded_with_only_v2_fail() {
    let bytes = encode_avro(&user_v1(), &json!({"name": "Ada"})).unwrap();
    let err = decode_avro(&user_v2(), &user_v2(), &bytes).unwrap_err();
    assert_eq!(
        err,
        SchemaError::MalformedAvro {
            schema: "User".to_owned(),
            offset: 4,
            path: "age".to_owned(),
            reason: "unexpected end of input (reading union branch index)".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "malformed Avro datum for User at byte 4 (`age`): unexpected end of input (reading union branch index)"
    );
    // Documented leniency: apache-avro 0.22 alone reads an end of input at a union index as
    // branch 0 (null) and would accept these bytes as v2 data; the pre-flight scan refuses.
    let v2 = to_avro_schema(&user_v2()).unwrap();
    let r = GenericDatumReader::builder(&v2).build().unwrap();
    let mut input = &bytes[..];
    assert_eq!(
        r.read_value(&mut input).unwrap(),
        apache_avro::types::Value::Record(vec![
            (
                "name".to_owned(),
                apache_avro::types::Value::String("Ada".to_owned())
            ),
            (
                "age".to_owned(),
                apache_avro::types::Value::Union(0, Box::new(apache_avro::types::Value::Null))
            ),
        ])
    );
}

#[test]
fn reader_v3_with_required_field_cannot_resolve_v1_data() {
    let bytes = encode_avro(&user_v1(), &json!({"name": "Ada"})).unwrap();
    let err = decode_avro(&user_v1(), &user_v3(), &bytes).unwrap_err();
    assert_eq!(
        err,
        SchemaError::Resolution {
            writer: "User 1.0.0".to_owned(),
            reader: "User 2.0.0".to_owned(),
            path: "email".to_owned(),
            reason: "reader field email has no default and the writer schema has no such field"
                .to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot resolve writer User 1.0.0 against reader User 2.0.0 at `email`: \
         reader field email has no default and the writer schema has no such field"
    );
    // apache-avro's resolver fails too, with its own wording.
    assert_eq!(
        avro_lib_resolve(&user_v1(), &user_v3(), &bytes),
        Err("Missing field in record: \"email\"".to_owned())
    );
}

#[test]
fn newer_writer_older_reader_drops_unknown_field() {
    let bytes = encode_avro(&user_v2(), &json!({"name": "Bo", "age": 41})).unwrap();
    // name: 04 'B' 'o'; age: union branch 1 (long) = 02, zigzag(41) = 82 = 0x52.
    assert_eq!(hex(&bytes), "04 42 6f 02 52");
    assert_eq!(
        decode_avro(&user_v2(), &user_v1(), &bytes).unwrap(),
        json!({"name": "Bo"})
    );
    assert_eq!(
        decode_avro(&user_v2(), &user_v2(), &bytes).unwrap(),
        json!({"name": "Bo", "age": 41})
    );
}

#[test]
fn resolution_promotes_int_to_double_and_checks_record_names() {
    let w = MessageSchema::new("M", ver("1.0.0")).with_field(Field::new("n", FieldType::Int));
    let r = MessageSchema::new("M", ver("2.0.0")).with_field(Field::new("n", FieldType::Double));
    let r_opt =
        MessageSchema::new("M", ver("2.0.0")).with_field(Field::new("n", opt(FieldType::Double)));
    let bytes = encode_avro(&w, &json!({"n": 3})).unwrap();
    assert_eq!(decode_avro(&w, &r, &bytes).unwrap(), json!({"n": 3.0}));
    assert_eq!(decode_avro(&w, &r_opt, &bytes).unwrap(), json!({"n": 3.0}));
    let other =
        MessageSchema::new("Other", ver("1.0.0")).with_field(Field::new("n", FieldType::Int));
    assert_eq!(
        decode_avro(&w, &other, &bytes).unwrap_err().to_string(),
        "cannot resolve writer M 1.0.0 against reader Other 1.0.0 at ``: record names differ: writer M vs reader Other"
    );
    // Documented deviation: apache-avro 0.22's runtime resolver ignores record names.
    assert_eq!(avro_lib_resolve(&w, &other, &bytes), Ok(()));
}

#[test]
fn data_dependent_resolution_failures_have_paths() {
    let w = MessageSchema::new("M", ver("1.0.0"))
        .with_field(Field::new("s", enm(&["A", "B"])))
        .with_field(Field::new("o", opt(FieldType::Int)))
        .with_field(Field::new("l", arr(FieldType::Int)));
    let r = MessageSchema::new("M", ver("1.0.0"))
        .with_field(Field::new("s", enm(&["A"])))
        .with_field(Field::new("o", FieldType::Int))
        .with_field(Field::new("l", arr(FieldType::String)));
    let ok = encode_avro(&w, &json!({"s": "A", "o": 1, "l": []})).unwrap();
    assert_eq!(
        decode_avro(&w, &r, &ok).unwrap(),
        json!({"s": "A", "o": 1, "l": []})
    );
    assert_eq!(avro_lib_resolve(&w, &r, &ok), Ok(()));
    let cases = [
        (
            json!({"s": "B", "o": 1, "l": []}),
            "s",
            "writer symbol B is not among the reader's symbols [A] and the reader's enum has no \
             default",
        ),
        (
            json!({"s": "A", "o": null, "l": []}),
            "o",
            "writer wrote null but reader type int is not optional",
        ),
        (
            json!({"s": "A", "o": 1, "l": [7, 8]}),
            "l[0]",
            "writer type int does not match reader type string",
        ),
    ];
    for (payload, path, reason) in cases {
        let bytes = encode_avro(&w, &payload).unwrap();
        match decode_avro(&w, &r, &bytes) {
            Err(SchemaError::Resolution {
                path: p,
                reason: why,
                ..
            }) => {
                assert_eq!((p.as_str(), why.as_str()), (path, reason));
            }
            other => panic!("expected a resolution error, got {other:?}"),
        }
        assert!(
            avro_lib_resolve(&w, &r, &bytes).is_err(),
            "apache-avro agrees on {payload}"
        );
    }
}

/// Avro 1.11, "Schema Resolution", enums: "if the writer's symbol is not present in the
/// reader's enum and the reader has a default value, then that value is used, otherwise an
/// error is signalled." Each rule with the bytes of a real encoding, and `apache-avro`'s full
/// resolver (`GenericDatumReader` with a reader schema) agreeing.
#[test]
fn enum_symbol_defaults_follow_the_specification() {
    let status = |symbols: &[&str], default: Option<&str>| FieldType::Enum {
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        default: default.map(str::to_owned),
    };
    let w = MessageSchema::new("Order", ver("1.1.0"))
        .with_field(Field::new(
            "status",
            status(&["NEW", "PAID", "REFUNDED"], None),
        ))
        .with_field(Field::new(
            "history",
            arr(status(&["NEW", "PAID", "REFUNDED"], None)),
        ));
    // The reader predates REFUNDED; with and without an enum default.
    let reader = |default: Option<&str>| {
        MessageSchema::new("Order", ver("1.0.0"))
            .with_field(Field::new(
                "status",
                status(&["NEW", "PAID", "UNKNOWN"], default),
            ))
            .with_field(Field::new(
                "history",
                arr(status(&["NEW", "PAID", "UNKNOWN"], default)),
            ))
    };
    let with_default = reader(Some("UNKNOWN"));
    let without = reader(None);
    // Rule 1: a symbol the reader has is read as itself (by name, not by index).
    let paid = encode_avro(&w, &json!({"status": "PAID", "history": ["NEW"]})).unwrap();
    assert_eq!(hex(&paid), "02 02 00 00");
    for r in [&with_default, &without] {
        assert_eq!(
            decode_avro(&w, r, &paid).unwrap(),
            json!({"status": "PAID", "history": ["NEW"]})
        );
        assert_eq!(avro_lib_resolve(&w, r, &paid), Ok(()));
    }
    // Rule 2: a symbol the reader lacks reads as the reader's default, in arrays too.
    let refunded = encode_avro(
        &w,
        &json!({"status": "REFUNDED", "history": ["PAID", "REFUNDED"]}),
    )
    .unwrap();
    assert_eq!(hex(&refunded), "04 04 02 04 00");
    assert_eq!(
        decode_avro(&w, &with_default, &refunded).unwrap(),
        json!({"status": "UNKNOWN", "history": ["PAID", "UNKNOWN"]})
    );
    assert_eq!(avro_lib_resolve(&w, &with_default, &refunded), Ok(()));
    // Rule 3: no default: an error naming the symbol and the field.
    match decode_avro(&w, &without, &refunded) {
        Err(SchemaError::Resolution { path, reason, .. }) => assert_eq!(
            (path.as_str(), reason.as_str()),
            (
                "status",
                "writer symbol REFUNDED is not among the reader's symbols [NEW, PAID, UNKNOWN] \
                 and the reader's enum has no default"
            )
        ),
        other => panic!("expected a resolution error, got {other:?}"),
    }
    assert!(avro_lib_resolve(&w, &without, &refunded).is_err());
    // The schemas' compatibility says the same (a reader default makes it compatible).
    assert!(can_read(&w, &with_default).is_ok());
    assert!(can_read(&w, &without).is_err());
    // The JSON form carries `default` to the Avro schema; a default outside the symbols is
    // refused.
    let field: Field = serde_json::from_value(json!({"name": "status", "type":
        {"kind": "enum", "symbols": ["NEW", "UNKNOWN"], "default": "UNKNOWN"}}))
    .unwrap();
    let schema = MessageSchema::new("Order", ver("1.0.0")).with_field(field);
    assert_eq!(
        avro_schema_json(&schema).unwrap()["fields"][0]["type"],
        json!({"type": "enum", "name": "status_enum", "symbols": ["NEW", "UNKNOWN"],
               "default": "UNKNOWN"})
    );
    let bad = MessageSchema::new("Order", ver("1.0.0"))
        .with_field(Field::new("status", status(&["NEW"], Some("GONE"))));
    assert_eq!(
        bad.check().unwrap_err().to_string(),
        "invalid schema Order: field status: enum default GONE is not one of the symbols [NEW]"
    );
}

// ------------------------------------------------------------------------------------------
// (2) Tolerant vs strict readers

#[test]
fn tolerant_reader_drops_unknown_strict_reader_rejects() {
    let payload = json!({"name": "Ada", "age": 3});
    assert_eq!(
        read_json(&user_v1(), ReaderMode::Tolerant, &payload).unwrap(),
        json!({"name": "Ada"})
    );
    let rejection = read_json(&user_v1(), ReaderMode::Strict, &payload).unwrap_err();
    assert_eq!(rejection.reason, "unknown field age");
    assert_eq!(rejection.path, "age");
    assert_eq!(rejection.to_string(), "unknown field age");
}

#[test]
fn readers_fill_defaults_and_reject_missing_required() {
    let s = user_v2().with_field(Field::new("score", FieldType::Int).with_default(json!(10)));
    for mode in [ReaderMode::Tolerant, ReaderMode::Strict] {
        assert_eq!(
            read_json(&s, mode, &json!({"name": "Ada"})).unwrap(),
            json!({"name": "Ada", "age": null, "score": 10})
        );
        let r = read_json(&s, mode, &json!({"age": 3})).unwrap_err();
        assert_eq!(
            (r.path.as_str(), r.reason.as_str()),
            ("name", "missing field name")
        );
        let r = read_json(&s, mode, &json!({"name": 5})).unwrap_err();
        assert_eq!(r.reason, "invalid field name: expected string, got integer");
        let r = read_json(&s, mode, &json!(["Ada"])).unwrap_err();
        assert_eq!(r.reason, "payload is not a JSON object (got array)");
    }
}

#[test]
fn validate_reports_field_paths() {
    let s = order_schema();
    assert_eq!(s.validate(&order_payload()), Ok(()));
    let mut p = order_payload();
    p["tags"] = json!(["ok", 7]);
    assert_eq!(
        s.validate(&p),
        Err(SchemaError::InvalidPayload {
            schema: "shop.OrderPlaced".to_owned(),
            path: "tags[1]".to_owned(),
            reason: "invalid field tags[1]: expected string, got integer".to_owned(),
        })
    );
    let mut p = order_payload();
    p["status"] = json!("LOST");
    assert_eq!(
        s.validate(&p).unwrap_err().to_string(),
        "invalid payload for shop.OrderPlaced at `status`: invalid field status: \"LOST\" is not one of the symbols [PENDING, PAID, SHIPPED]"
    );
    let mut p = order_payload();
    p["quantity"] = json!(1.5);
    assert_eq!(
        s.validate(&p).unwrap_err().to_string(),
        "invalid payload for shop.OrderPlaced at `quantity`: invalid field quantity: expected int, got number"
    );
    let mut p = order_payload();
    p["quantity"] = json!(u64::MAX);
    assert_eq!(
        s.validate(&p).unwrap_err().to_string(),
        "invalid payload for shop.OrderPlaced at `quantity`: invalid field quantity: integer 18446744073709551615 is out of the int (i64) range"
    );
    let mut p = order_payload();
    p["extra"] = json!(1);
    assert_eq!(
        s.validate(&p).unwrap_err().to_string(),
        "invalid payload for shop.OrderPlaced at `extra`: unknown field extra"
    );
}

// ------------------------------------------------------------------------------------------
// (3) Semver classification of changes

#[test]
fn change_classification() {
    // Adding an optional field: minor.
    assert_eq!(classify_change(&user_v1(), &user_v2()), ChangeClass::Minor);
    // Adding a non-optional field with a default: minor.
    let with_default =
        user_v1().with_field(Field::new("score", FieldType::Int).with_default(json!(0)));
    assert_eq!(
        classify_change(&user_v1(), &with_default),
        ChangeClass::Minor
    );
    // Removing a field: major (even an optional one).
    assert_eq!(classify_change(&user_v2(), &user_v1()), ChangeClass::Major);
    // Adding a required field: major.
    assert_eq!(classify_change(&user_v2(), &user_v3()), ChangeClass::Major);
    // Only descriptions changed: patch.
    let mut doc = user_v1();
    doc.description = "A registered user".to_owned();
    doc.fields[0].description = "the user's display name".to_owned();
    doc.version = ver("1.0.1");
    assert_eq!(classify_change(&user_v1(), &doc), ChangeClass::Patch);
    assert_eq!(
        schema_changes(&user_v1(), &doc),
        vec![
            SchemaChange {
                class: ChangeClass::Patch,
                path: String::new(),
                description: "message description changed".to_owned(),
            },
            SchemaChange {
                class: ChangeClass::Patch,
                path: "name".to_owned(),
                description: "description of field name changed".to_owned(),
            },
        ]
    );
    // Nothing changed: patch, no changes listed.
    assert_eq!(classify_change(&user_v1(), &user_v1()), ChangeClass::Patch);
    assert!(schema_changes(&user_v1(), &user_v1()).is_empty());
    // Type change: major; enum symbol added: minor; removed: major.
    let a = MessageSchema::new("E", ver("1.0.0")).with_field(Field::new("s", enm(&["A", "B"])));
    let b =
        MessageSchema::new("E", ver("1.1.0")).with_field(Field::new("s", enm(&["A", "B", "C"])));
    assert_eq!(classify_change(&a, &b), ChangeClass::Minor);
    assert_eq!(classify_change(&b, &a), ChangeClass::Major);
    let t = MessageSchema::new("E", ver("2.0.0")).with_field(Field::new("s", FieldType::String));
    assert_eq!(
        schema_changes(&a, &t),
        vec![SchemaChange {
            class: ChangeClass::Major,
            path: "s".to_owned(),
            description: "type of s changed from enum{A,B} to string".to_owned(),
        }]
    );
    // Removing a default makes the field required: major.
    assert_eq!(
        classify_change(
            &with_default,
            &user_v1().with_field(Field::new("score", FieldType::Int))
        ),
        ChangeClass::Major
    );
}

// ------------------------------------------------------------------------------------------
// (4) SemVer precedence

#[test]
fn semver_precedence_chain() {
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ];
    let versions: Vec<Version> = chain.iter().map(|s| ver(s)).collect();
    for pair in versions.windows(2) {
        assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        assert_eq!(pair[0].cmp_precedence(&pair[1]), std::cmp::Ordering::Less);
    }
    // Build metadata does not take part in precedence.
    assert_eq!(
        ver("1.0.0+build.1").cmp_precedence(&ver("1.0.0+build.2")),
        std::cmp::Ordering::Equal
    );
    assert_eq!(
        bump_class(&ver("1.0.0-rc.1"), &ver("1.0.0")),
        Some(ChangeClass::Patch)
    );
    assert_eq!(
        bump_class(&ver("1.4.2"), &ver("2.0.0")),
        Some(ChangeClass::Major)
    );
    assert_eq!(
        bump_class(&ver("1.4.2"), &ver("1.5.0")),
        Some(ChangeClass::Minor)
    );
    assert_eq!(bump_class(&ver("1.4.2"), &ver("1.4.2+meta")), None);
    assert_eq!(
        next_version(&ver("1.4.2-rc.1"), ChangeClass::Minor),
        ver("1.5.0")
    );
    assert_eq!(
        next_version(&ver("1.4.2"), ChangeClass::Major),
        ver("2.0.0")
    );
    assert_eq!(
        next_version(&ver("1.4.2"), ChangeClass::Patch),
        ver("1.4.3")
    );
}

// ------------------------------------------------------------------------------------------
// Sizes, bytes, hex

#[test]
fn sample_message_sizes_and_bytes() {
    let s = order_schema();
    let p = order_payload();
    let json_bytes = encode_json(&s, &p).unwrap();
    assert_eq!(
        String::from_utf8(json_bytes.clone()).unwrap(),
        r#"{"order_id":"o-1001","customer":"Ada","quantity":3,"unit_price":19.99,"express":true,"status":"PAID","coupon":null,"tags":["gift","fragile"]}"#
    );
    let avro = encode_avro(&s, &p).unwrap();
    assert_eq!(
        hex(&avro),
        "0c 6f 2d 31 30 30 31 06 41 64 61 06 3d 0a d7 a3 70 fd 33 40 01 02 00 04 08 67 69 66 74 0e 66 72 61 67 69 6c 65 00"
    );
    assert_eq!(
        encoded_sizes(&s, &p).unwrap(),
        EncodedSizes {
            json: 141,
            avro: 38
        }
    );
    assert_eq!(json_bytes.len(), 141);
    // Round trip through Avro with the same schema.
    assert_eq!(decode_avro(&s, &s, &avro).unwrap(), p);
    // Missing optional field is filled before encoding: same bytes.
    let mut without_coupon = p.clone();
    without_coupon.as_object_mut().unwrap().remove("coupon");
    assert_eq!(encode_avro(&s, &without_coupon).unwrap(), avro);
    // Deterministic.
    assert_eq!(encode_avro(&s, &p).unwrap(), avro);
}

#[test]
fn hex_helpers() {
    assert_eq!(hex(&[]), "");
    assert_eq!(hex(&[0x00, 0x0f, 0xff]), "00 0f ff");
    assert_eq!(hex_dump(&[]), "");
    let bytes: Vec<u8> = (0x3c..0x3c + 20).collect();
    assert_eq!(
        hex_dump(&bytes),
        "00000000  3c 3d 3e 3f 40 41 42 43 44 45 46 47 48 49 4a 4b  |<=>?@ABCDEFGHIJK|\n\
         00000010  4c 4d 4e 4f                                      |LMNO|"
    );
    assert_eq!(
        hex_dump(&[0x06, b'A', 0x7f]),
        "00000000  06 41 7f                                         |.A.|"
    );
}

#[test]
fn avro_schema_json_shape() {
    assert_eq!(
        avro_schema_json(&user_v2()).unwrap(),
        json!({
            "type": "record",
            "name": "User",
            "doc": "A user",
            "fields": [
                {"name": "name", "type": "string", "doc": "display name"},
                {"name": "age", "type": ["null", "long"], "default": null}
            ]
        })
    );
    assert_eq!(
        avro_schema_json(&order_schema()).unwrap()["namespace"],
        json!("shop")
    );
    assert_eq!(
        avro_schema_json(&order_schema()).unwrap()["fields"][5]["type"],
        json!({"type": "enum", "name": "status_enum", "symbols": ["PENDING", "PAID", "SHIPPED"]})
    );
}

#[test]
fn optional_with_non_null_default_puts_null_second() {
    let s = MessageSchema::new("M", ver("1.0.0"))
        .with_field(Field::new("c", opt(FieldType::String)).with_default(json!("x")));
    assert_eq!(
        avro_schema_json(&s).unwrap()["fields"][0],
        json!({"name": "c", "type": ["string", "null"], "default": "x"})
    );
    assert_eq!(hex(&encode_avro(&s, &json!({"c": null})).unwrap()), "02");
    assert_eq!(hex(&encode_avro(&s, &json!({})).unwrap()), "00 02 78");
    let bytes = encode_avro(&s, &json!({"c": null})).unwrap();
    assert_eq!(decode_avro(&s, &s, &bytes).unwrap(), json!({"c": null}));
    // Reading data of a writer without `c` yields the default.
    let empty = MessageSchema::new("M", ver("0.9.0"));
    assert_eq!(decode_avro(&empty, &s, &[]).unwrap(), json!({"c": "x"}));
}

// ------------------------------------------------------------------------------------------
// Robustness: hostile bytes, hostile schemas

#[test]
fn malformed_avro_is_reported_not_panicking() {
    let s = user_v1();
    let cases: [(&[u8], usize, &str); 6] = [
        (&[], 0, "unexpected end of input (reading string length)"),
        (
            &[0x06, b'A'],
            0,
            "string length 3 exceeds the 1 bytes left after it",
        ),
        (&[0x01], 0, "negative string length -1"),
        (
            &[0xfe, 0xff, 0xff, 0xff, 0x0f],
            0,
            "string length 2147483647 exceeds the 0 bytes left after it",
        ),
        (&[0x04, 0xff, 0xfe], 1, "string is not valid UTF-8"),
        (&[0x02, b'A', 0x00], 2, "1 trailing bytes after the datum"),
    ];
    for (bytes, offset, reason) in cases {
        match decode_avro(&s, &s, bytes) {
            Err(SchemaError::MalformedAvro {
                offset: o,
                reason: r,
                ..
            }) => {
                assert_eq!((o, r.as_str()), (offset, reason), "input {}", hex(bytes));
            }
            other => panic!(
                "input {}: expected MalformedAvro, got {other:?}",
                hex(bytes)
            ),
        }
    }
    let overlong = [0xff_u8; 11];
    assert!(matches!(
        decode_avro(&s, &s, &overlong),
        Err(SchemaError::MalformedAvro { reason, .. }) if reason == "varint overflows 64 bits (reading string length)"
    ));
    let o = order_schema();
    let good = encode_avro(&o, &order_payload()).unwrap();
    // Every strict prefix is malformed.
    for n in 0..good.len() {
        assert!(
            matches!(
                decode_avro(&o, &o, &good[..n]),
                Err(SchemaError::MalformedAvro { .. })
            ),
            "prefix of {n} bytes"
        );
    }
    // Bad boolean, enum index, union index, array count.
    let mut b = good.clone();
    b[20] = 2; // express
    assert!(
        matches!(decode_avro(&o, &o, &b), Err(SchemaError::MalformedAvro { path, .. }) if path == "express")
    );
    let mut b = good.clone();
    b[21] = 0x06; // status index 3 of 3 symbols
    assert!(
        matches!(decode_avro(&o, &o, &b), Err(SchemaError::MalformedAvro { path, .. }) if path == "status")
    );
    let mut b = good.clone();
    b[22] = 0x04; // coupon union index 2
    assert!(
        matches!(decode_avro(&o, &o, &b), Err(SchemaError::MalformedAvro { path, .. }) if path == "coupon")
    );
    let mut b = good[..23].to_vec();
    b.extend([0xfe, 0xff, 0xff, 0xff, 0x0f]); // tags: block of 2^31-1 items
    assert!(
        matches!(decode_avro(&o, &o, &b), Err(SchemaError::MalformedAvro { path, .. }) if path == "tags")
    );
}

#[test]
fn pseudo_random_bytes_never_panic() {
    // Deterministic LCG, no entropy.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u8
    };
    let o = order_schema();
    let good = encode_avro(&o, &order_payload()).unwrap();
    let mut ok = 0;
    for round in 0..3000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = usize::from(next()) % 64;
            (0..len).map(|_| next()).collect()
        } else {
            let mut b = good.clone();
            let i = usize::from(next()) % b.len();
            b[i] = next();
            b
        };
        if decode_avro(&o, &o, &bytes).is_ok() {
            ok += 1;
        }
        let _ = decode_avro(&o, &user_v1(), &bytes);
    }
    assert!(ok > 0, "some single-byte mutations still decode");
}

#[test]
fn invalid_schemas_are_errors() {
    let base = || MessageSchema::new("M", ver("1.0.0"));
    let cases = vec![
        (
            MessageSchema::new("1bad", ver("1.0.0")),
            "invalid schema 1bad: message name \"1bad\" is not an Avro full name (dot-separated [A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            MessageSchema::new("a..b", ver("1.0.0")),
            "invalid schema a..b: message name \"a..b\" is not an Avro full name (dot-separated [A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            base().with_field(Field::new("x-y", FieldType::Int)),
            "invalid schema M: field name \"x-y\" is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            base()
                .with_field(Field::new("a", FieldType::Int))
                .with_field(Field::new("a", FieldType::String)),
            "invalid schema M: duplicate field a",
        ),
        (
            base().with_field(Field::new("a", opt(opt(FieldType::Int)))),
            "invalid schema M: field a: optional<optional<_>> is not allowed (Avro unions may not directly contain unions)",
        ),
        (
            base().with_field(Field::new("a", enm(&[]))),
            "invalid schema M: field a: enum has no symbols",
        ),
        (
            base().with_field(Field::new("a", enm(&["A", "A"]))),
            "invalid schema M: field a: duplicate enum symbol A",
        ),
        (
            base().with_field(Field::new("a", enm(&["a b"]))),
            "invalid schema M: field a: enum symbol \"a b\" is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            base().with_field(Field::new("a", FieldType::Int).with_default(json!("zero"))),
            "invalid schema M: default of field a is invalid: expected int, got string",
        ),
        (
            base().with_field(Field::new("a", FieldType::Int).with_default(json!(null))),
            "invalid schema M: default of field a is invalid: expected int, got null",
        ),
        (
            MessageSchema::new("ns.string", ver("1.0.0")),
            "invalid schema ns.string: message name \"ns.string\" ends in an Avro primitive type name",
        ),
        (
            MessageSchema::new("s_enum", ver("1.0.0")).with_field(Field::new("s", enm(&["A"]))),
            "invalid schema s_enum: field s: derived Avro enum name s_enum collides with the message name",
        ),
    ];
    for (schema, msg) in cases {
        let err = schema.check().unwrap_err();
        assert_eq!(err.to_string(), msg);
        // Every entry point returns the error instead of panicking.
        assert_eq!(encode_avro(&schema, &json!({})).unwrap_err(), err);
        assert_eq!(encode_json(&schema, &json!({})).unwrap_err(), err);
        assert_eq!(decode_avro(&schema, &schema, &[]).unwrap_err(), err);
        assert_eq!(json_schema(&schema).unwrap_err(), err);
        assert!(read_json(&schema, ReaderMode::Tolerant, &json!({})).is_err());
        assert!(compatibility(&schema, &schema).backward_reasons.len() == 2);
        assert!(SchemaRegistry::new().register("s", schema.clone()).is_err());
    }
    // Too deep.
    let mut t = FieldType::Int;
    for _ in 0..MAX_TYPE_DEPTH {
        t = arr(t);
    }
    let deep = base().with_field(Field::new("a", t));
    assert_eq!(
        deep.check().unwrap_err().to_string(),
        "invalid schema M: field a: type nesting deeper than 32"
    );
}

#[test]
fn schema_json_form_round_trips_and_denies_unknown_fields() {
    let text = r#"{
        "name": "User",
        "version": "1.1.0",
        "description": "A user",
        "fields": [
            {"name": "name", "type": {"kind": "string"}, "description": "display name"},
            {"name": "age", "type": {"kind": "optional", "inner": {"kind": "int"}}, "default": null}
        ]
    }"#;
    let value: Value = serde_json::from_str(text).unwrap();
    let parsed = MessageSchema::from_json(&value).unwrap();
    assert_eq!(parsed, user_v2());
    assert_eq!(parsed.fields[1].default, Some(Value::Null));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    let all_kinds = json!({"name": "K", "version": "0.1.0", "fields": [
        {"name": "a", "type": {"kind": "double"}},
        {"name": "b", "type": {"kind": "boolean"}},
        {"name": "c", "type": {"kind": "enum", "symbols": ["X", "Y"]}},
        {"name": "d", "type": {"kind": "array", "items": {"kind": "string"}}, "default": []}
    ]});
    let k = MessageSchema::from_json(&all_kinds).unwrap();
    assert_eq!(k.fields[3].ty, arr(FieldType::String));
    assert_eq!(serde_json::to_value(&k).unwrap(), all_kinds);

    for bad in [
        json!({"name": "U", "version": "1.0.0", "fields": [], "colour": 1}),
        json!({"name": "U", "version": "1.0.0", "fields": [{"name": "a", "type": {"kind": "int"}, "doc": ""}]}),
        json!({"name": "U", "version": "1.0.0", "fields": [{"name": "a", "type": {"kind": "int", "size": 4}}]}),
        json!({"name": "U", "version": "1.0.0", "fields": [{"name": "a", "type": {"kind": "float"}}]}),
        json!({"name": "U", "version": "one", "fields": []}),
    ] {
        assert!(
            matches!(MessageSchema::from_json(&bad), Err(SchemaError::InvalidSchema { ref schema, .. }) if schema == "?"),
            "{bad}"
        );
    }
    // A very deep schema from JSON is an error, not a stack overflow.
    let mut t = json!({"kind": "int"});
    for i in 0..40 {
        t = if i % 2 == 0 {
            json!({"kind": "array", "items": t})
        } else {
            json!({"kind": "optional", "inner": t})
        };
    }
    let deep = json!({"name": "D", "version": "1.0.0", "fields": [{"name": "a", "type": t}]});
    assert!(matches!(
        MessageSchema::from_json(&deep),
        Err(SchemaError::InvalidSchema { .. })
    ));
}

// ------------------------------------------------------------------------------------------
// Compatibility

#[test]
fn compatibility_levels_with_reasons() {
    let c = compatibility(&user_v1(), &user_v2());
    assert_eq!(
        c,
        Compatibility {
            backward: true,
            forward: true,
            full: true,
            backward_reasons: vec![],
            forward_reasons: vec![],
        }
    );
    let c = compatibility(&user_v2(), &user_v3());
    assert_eq!((c.backward, c.forward, c.full), (false, true, false));
    assert_eq!(
        c.backward_reasons,
        vec![
            "field email: reader field has no default and the writer has no such field".to_owned()
        ]
    );
    let c = compatibility(&user_v3(), &user_v2());
    assert_eq!((c.backward, c.forward, c.full), (true, false, false));

    let int_v = MessageSchema::new("N", ver("1.0.0")).with_field(Field::new("n", FieldType::Int));
    let dbl_v =
        MessageSchema::new("N", ver("2.0.0")).with_field(Field::new("n", FieldType::Double));
    let c = compatibility(&int_v, &dbl_v);
    assert_eq!((c.backward, c.forward), (true, false));
    assert_eq!(
        c.forward_reasons,
        vec!["field n: writer type double does not match reader type int".to_owned()]
    );
    let opt_v =
        MessageSchema::new("N", ver("1.0.0")).with_field(Field::new("n", opt(FieldType::Int)));
    let c = compatibility(&opt_v, &int_v);
    assert_eq!((c.backward, c.forward), (false, true));
    assert_eq!(
        c.backward_reasons,
        vec![
            "field n: writer type optional<int> may write null but reader type int is not optional"
                .to_owned()
        ]
    );
}

/// Our static check agrees with apache-avro's SchemaCompatibility (Full <=> compatible) and
/// with actual decoding of sample data.
#[test]
fn compatibility_cross_checked_with_apache_avro() {
    let n = |ty: FieldType| MessageSchema::new("N", ver("1.0.0")).with_field(Field::new("n", ty));
    let schemas = vec![
        n(FieldType::Int),
        n(FieldType::Double),
        n(FieldType::String),
        n(FieldType::Boolean),
        n(opt(FieldType::Int)),
        n(opt(FieldType::Double)),
        n(opt(FieldType::String)),
        n(enm(&["A", "B"])),
        n(enm(&["A", "B", "C"])),
        n(opt(enm(&["A"]))),
        n(arr(FieldType::Int)),
        n(arr(FieldType::Double)),
        n(arr(opt(FieldType::Int))),
        MessageSchema::new("N", ver("1.0.0")),
        MessageSchema::new("N", ver("1.0.0")).with_field(Field::new("m", FieldType::Int)),
        MessageSchema::new("N", ver("1.0.0"))
            .with_field(Field::new("m", FieldType::Int).with_default(json!(5))),
    ];
    let samples = [
        json!({"n": 1, "m": 2}),
        json!({"n": 2.5}),
        json!({"n": "A"}),
        json!({"n": "B"}),
        json!({"n": "C"}),
        json!({"n": true}),
        json!({"n": null}),
        json!({"n": [1, 2]}),
        json!({"n": [1.5]}),
        json!({"n": [null, 3]}),
        json!({"n": []}),
        json!({}),
    ];
    let mut checked_pairs = 0;
    let mut disagreements = Vec::new();
    for w in &schemas {
        for r in &schemas {
            let ours = can_read(w, r);
            let lib = SchemaCompatibility::can_read(
                &to_avro_schema(w).unwrap(),
                &to_avro_schema(r).unwrap(),
            );
            assert_eq!(
                ours.is_ok(),
                matches!(lib, Ok(AvroCompat::Full)),
                "writer {:?} reader {:?}: ours {ours:?}, apache-avro {lib:?}",
                w.fields,
                r.fields
            );
            for sample in &samples {
                let Ok(bytes) = encode_avro(w, sample) else {
                    continue;
                };
                let decoded = decode_avro(w, r, &bytes);
                if ours.is_ok() {
                    assert!(
                        decoded.is_ok(),
                        "compatible pair must decode {sample}: {decoded:?}"
                    );
                }
                // Runtime parity with apache-avro's resolver (names are equal here).
                let lib_ok = avro_lib_resolve(w, r, &bytes).is_ok();
                if decoded.is_ok() != lib_ok {
                    disagreements.push(format!(
                        "{} -> {} {sample}: ours ok={}, apache-avro ok={lib_ok}",
                        w.field("n").map_or("-".to_owned(), |f| f.ty.display_name()),
                        r.field("n").map_or("-".to_owned(), |f| f.ty.display_name()),
                        decoded.is_ok()
                    ));
                }
                checked_pairs += 1;
            }
        }
    }
    assert!(checked_pairs > 200);
    // The only runtime disagreement: apache-avro 0.22 resolves a writer *string* into a reader
    // *enum* when the text is a symbol; the Avro 1.11 specification has no such promotion
    // (a string does not match an enum), so we refuse, as its own static checker does.
    assert_eq!(disagreements.len(), 12, "{disagreements:#?}");
    for d in &disagreements {
        assert!(
            (d.contains("string> -> ") || d.starts_with("string -> "))
                && d.contains("enum{")
                && d.ends_with("ours ok=false, apache-avro ok=true"),
            "{d}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Registry

#[test]
fn registry_assigns_ids_and_enforces_rules() {
    let mut reg = SchemaRegistry::new();
    assert!(reg.is_empty());
    let id1 = reg.register("users", user_v1()).unwrap();
    let id2 = reg.register("users", user_v2()).unwrap();
    assert_eq!((id1, id2), (SchemaId(1), SchemaId(2)));
    assert_eq!(reg.register("users", user_v1()).unwrap(), SchemaId(1)); // idempotent
    assert_eq!(reg.len(), 2);
    assert_eq!(reg.id_of("users", &ver("1.1.0")), Some(SchemaId(2)));
    assert_eq!(reg.latest("users").map(|e| e.id), Some(SchemaId(2)));
    assert_eq!(reg.versions("users"), vec![&ver("1.0.0"), &ver("1.1.0")]);
    assert_eq!(reg.subjects(), vec!["users"]);
    assert_eq!(reg.schema(SchemaId(1)).unwrap(), &user_v1());
    assert_eq!(
        reg.schema(SchemaId(9)).unwrap_err().to_string(),
        "unknown schema id 9"
    );

    // The id travels in the headers; the consumer decodes with its own reader schema.
    let bytes = encode_avro(&user_v1(), &json!({"name": "Ada"})).unwrap();
    assert_eq!(
        reg.decode_avro(id1, &user_v2(), &bytes).unwrap(),
        json!({"name": "Ada", "age": null})
    );

    let mut changed = user_v1();
    changed.description = "changed".to_owned();
    assert_eq!(
        reg.register("users", changed).unwrap_err().to_string(),
        "subject users already has version 1.0.0 with a different schema"
    );
    let mut older = user_v1();
    older.version = ver("1.0.5");
    assert_eq!(
        reg.register("users", older).unwrap_err().to_string(),
        "subject users: version 1.0.5 is not greater than latest 1.1.0"
    );
    // BACKWARD (default): a new required field breaks reading old data.
    assert_eq!(
        reg.register("users", user_v3()).unwrap_err(),
        SchemaError::Incompatible {
            subject: "users".to_owned(),
            level: "BACKWARD".to_owned(),
            reasons: vec!["backward: field email: reader field has no default and the writer has no such field".to_owned()],
        }
    );
    // Semver: a minor change published as a patch is refused.
    let mut sneaky = user_v2().with_field(Field::new("nick", opt(FieldType::String)));
    sneaky.version = ver("1.1.1");
    assert_eq!(
        reg.register("users", sneaky.clone()).unwrap_err(),
        SchemaError::VersionBumpTooSmall {
            subject: "users".to_owned(),
            latest: "1.1.0".to_owned(),
            version: "1.1.1".to_owned(),
            required: ChangeClass::Minor,
            actual: ChangeClass::Patch,
            reasons: vec!["optional field nick added".to_owned()],
        }
    );
    sneaky.version = ver("1.2.0");
    assert_eq!(reg.register("users", sneaky).unwrap(), SchemaId(3));
    // Failed registrations consumed no ids.
    assert_eq!(reg.len(), 3);

    // NONE level + no semver enforcement accepts the breaking change.
    let mut lax = SchemaRegistry::new()
        .with_compatibility(CompatibilityLevel::None)
        .with_semver_enforcement(false);
    lax.register("users", user_v2()).unwrap();
    let mut v3_minor = user_v3();
    v3_minor.version = ver("1.2.0");
    assert_eq!(lax.register("users", v3_minor).unwrap(), SchemaId(2));
    // FULL rejects a change that is only backward compatible.
    let mut full = SchemaRegistry::new().with_compatibility(CompatibilityLevel::Full);
    let e1 = MessageSchema::new("E", ver("1.0.0")).with_field(Field::new("s", enm(&["A"])));
    let e2 = MessageSchema::new("E", ver("1.1.0")).with_field(Field::new("s", enm(&["A", "B"])));
    full.register("e", e1).unwrap();
    assert_eq!(
        full.register("e", e2).unwrap_err().to_string(),
        "subject e: FULL compatibility violated: [\"forward: field s: writer enum symbols missing from the reader: B\"]"
    );
}

// ------------------------------------------------------------------------------------------
// Export

fn api_info() -> ApiInfo {
    ApiInfo {
        title: "msgsim shop".to_owned(),
        version: "1.0.0".to_owned(),
        description: "Generated by msgsim".to_owned(),
    }
}

fn sample_asyncapi() -> Value {
    asyncapi_document(
        &api_info(),
        &[user_v2(), order_schema()],
        &[
            ChannelSpec {
                id: "users".to_owned(),
                address: "users.created".to_owned(),
                messages: vec!["User".to_owned()],
                description: "New users".to_owned(),
            },
            ChannelSpec {
                id: "orders".to_owned(),
                address: "orders.{region}".to_owned(),
                messages: vec!["shop.OrderPlaced".to_owned()],
                description: String::new(),
            },
        ],
        &[
            OperationSpec {
                id: "publishUser".to_owned(),
                action: Action::Send,
                channel: "users".to_owned(),
                messages: vec![],
                description: "User service announces users".to_owned(),
            },
            OperationSpec {
                id: "consumeOrders".to_owned(),
                action: Action::Receive,
                channel: "orders".to_owned(),
                messages: vec!["shop.OrderPlaced".to_owned()],
                description: String::new(),
            },
        ],
    )
    .unwrap()
}

fn sample_openapi() -> Value {
    openapi_document(
        &api_info(),
        &[user_v2(), order_schema()],
        &[
            RestEndpoint {
                method: HttpMethod::Post,
                path: "/users".to_owned(),
                request: Some("User".to_owned()),
                responses: vec![(201, "User".to_owned())],
            },
            RestEndpoint {
                method: HttpMethod::Get,
                path: "/orders/{id}".to_owned(),
                request: None,
                responses: vec![
                    (200, "shop.OrderPlaced".to_owned()),
                    (404, "User".to_owned()),
                ],
            },
        ],
    )
    .unwrap()
}

#[test]
fn asyncapi_structure() {
    let doc = sample_asyncapi();
    assert_eq!(doc["asyncapi"], json!("3.0.0"));
    assert_eq!(
        doc["channels"]["users"],
        json!({
            "address": "users.created",
            "description": "New users",
            "messages": {"User": {"$ref": "#/components/messages/User"}}
        })
    );
    assert_eq!(
        doc["channels"]["orders"]["parameters"],
        json!({"region": {}})
    );
    assert_eq!(
        doc["operations"]["publishUser"],
        json!({
            "action": "send",
            "channel": {"$ref": "#/channels/users"},
            "messages": [{"$ref": "#/channels/users/messages/User"}],
            "description": "User service announces users"
        })
    );
    assert_eq!(
        doc["operations"]["consumeOrders"]["action"],
        json!("receive")
    );
    assert_eq!(
        doc["components"]["messages"]["User"],
        json!({
            "name": "User",
            "title": "User",
            "description": "A user",
            "contentType": "application/json",
            "x-schema-version": "1.1.0",
            "payload": {
                "type": "object",
                "title": "User",
                "description": "A user",
                "properties": {
                    "name": {"type": "string", "description": "display name"},
                    "age": {"anyOf": [{"type": "integer", "format": "int64"}, {"type": "null"}], "default": null}
                },
                "required": ["name"],
                "additionalProperties": false
            }
        })
    );
    let bad = asyncapi_document(
        &api_info(),
        &[user_v1()],
        &[ChannelSpec {
            id: "c".to_owned(),
            address: "c".to_owned(),
            messages: vec!["Nope".to_owned()],
            description: String::new(),
        }],
        &[],
    );
    assert_eq!(
        bad.unwrap_err().to_string(),
        "invalid API description: channel c carries unknown message Nope"
    );
}

#[test]
fn openapi_structure() {
    let doc = sample_openapi();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(
        doc["paths"]["/orders/{id}"]["get"],
        json!({
            "operationId": "get_orders__id_",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/shop.OrderPlaced"}}}},
                "404": {"description": "Not Found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}
            }
        })
    );
    assert_eq!(
        doc["paths"]["/users"]["post"]["requestBody"],
        json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}})
    );
    assert_eq!(
        doc["components"]["schemas"]["User"],
        json_schema(&user_v2()).unwrap()
    );
    for (endpoint, msg) in [
        (
            RestEndpoint {
                method: HttpMethod::Get,
                path: "users".to_owned(),
                request: None,
                responses: vec![(200, "User".to_owned())],
            },
            "invalid API description: path \"users\" must start with /",
        ),
        (
            RestEndpoint {
                method: HttpMethod::Get,
                path: "/u".to_owned(),
                request: None,
                responses: vec![(700, "User".to_owned())],
            },
            "invalid API description: status 700 is not in 100..=599",
        ),
        (
            RestEndpoint {
                method: HttpMethod::Get,
                path: "/u".to_owned(),
                request: None,
                responses: vec![],
            },
            "invalid API description: endpoint GET /u has no responses",
        ),
        (
            RestEndpoint {
                method: HttpMethod::Get,
                path: "/u/{id".to_owned(),
                request: None,
                responses: vec![(200, "User".to_owned())],
            },
            "invalid API description: unbalanced '{' in \"/u/{id\"",
        ),
        (
            RestEndpoint {
                method: HttpMethod::Put,
                path: "/u".to_owned(),
                request: Some("Ghost".to_owned()),
                responses: vec![(200, "User".to_owned())],
            },
            "invalid API description: unknown schema Ghost",
        ),
    ] {
        assert_eq!(
            openapi_document(&api_info(), &[user_v2()], &[endpoint])
                .unwrap_err()
                .to_string(),
            msg
        );
    }
    let endpoint_json = json!({"method": "POST", "path": "/users/{id}", "request": "User", "responses": [[201, "User"]]});
    let e: RestEndpoint = serde_json::from_value(endpoint_json.clone()).unwrap();
    assert_eq!(e.responses, vec![(201, "User".to_owned())]);
    assert_eq!(serde_json::to_value(&e).unwrap(), endpoint_json);
}

/// Validation against the published JSON Schemas of the specifications (vendored fixtures),
/// with the `jsonschema` crate (native only, offline: no remote reference is fetched).
#[cfg(not(target_arch = "wasm32"))]
mod spec_validation {
    use super::*;

    fn errors(schema_text: &str, doc: &Value) -> Vec<String> {
        let schema: Value = serde_json::from_str(schema_text).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    const ASYNCAPI: &str = include_str!("fixtures/asyncapi-3.0.0.schema.json");
    const OPENAPI: &str = include_str!("fixtures/openapi-3.1.schema.json");

    #[test]
    fn asyncapi_document_is_valid_asyncapi_3_0_0() {
        assert_eq!(errors(ASYNCAPI, &sample_asyncapi()), Vec::<String>::new());
        // The validator is effective: a 2.x-style action is refused.
        let mut bad = sample_asyncapi();
        bad["operations"]["publishUser"]["action"] = json!("publish");
        assert!(!errors(ASYNCAPI, &bad).is_empty());
        let mut bad = sample_asyncapi();
        bad["components"]["messages"]["User"]["payload"]["type"] = json!(7);
        assert!(!errors(ASYNCAPI, &bad).is_empty());
    }

    /// Generated payload schemas are valid Draft 7 and 2020-12 schemas, and accept exactly
    /// the payloads that `MessageSchema::validate` accepts.
    #[test]
    fn json_schema_agrees_with_validate() {
        let s = order_schema();
        let js = json_schema(&s).unwrap();
        assert!(jsonschema::draft7::meta::validate(&js).is_ok());
        assert!(jsonschema::draft202012::meta::validate(&js).is_ok());
        let d7 = jsonschema::draft7::new(&js).unwrap();
        let d2020 = jsonschema::draft202012::new(&js).unwrap();
        let mut payloads = vec![order_payload()];
        for (key, value) in [
            ("quantity", json!(1.5)),
            ("quantity", json!("3")),
            ("unit_price", json!(2)),
            ("status", json!("LOST")),
            ("coupon", json!("SAVE10")),
            ("coupon", json!(10)),
            ("tags", json!([])),
            ("tags", json!(["a", 1])),
            ("express", json!(null)),
            ("extra", json!(1)),
        ] {
            let mut p = order_payload();
            p[key] = value;
            payloads.push(p);
        }
        let mut missing_required = order_payload();
        missing_required.as_object_mut().unwrap().remove("customer");
        payloads.push(missing_required);
        let mut missing_optional = order_payload();
        missing_optional.as_object_mut().unwrap().remove("coupon");
        payloads.push(missing_optional);
        payloads.push(json!([]));
        let mut valid = 0;
        for p in &payloads {
            let ours = s.validate(p).is_ok();
            assert_eq!(d7.is_valid(p), ours, "draft 7 on {p}");
            assert_eq!(d2020.is_valid(p), ours, "2020-12 on {p}");
            valid += usize::from(ours);
        }
        assert_eq!(valid, 5);
    }

    #[test]
    fn openapi_document_is_valid_openapi_3_1() {
        assert_eq!(errors(OPENAPI, &sample_openapi()), Vec::<String>::new());
        let mut bad = sample_openapi();
        bad["info"].as_object_mut().unwrap().remove("title");
        assert!(!errors(OPENAPI, &bad).is_empty());
        let mut bad = sample_openapi();
        bad["paths"]["/users"]["post"]["responses"]["201"]
            .as_object_mut()
            .unwrap()
            .remove("description");
        assert!(!errors(OPENAPI, &bad).is_empty());
    }
}

#[test]
fn avro_codec_matches_free_functions() {
    let codec = AvroCodec::new(order_schema()).unwrap();
    let bytes = codec.encode(&order_payload()).unwrap();
    assert_eq!(
        bytes,
        encode_avro(&order_schema(), &order_payload()).unwrap()
    );
    assert_eq!(
        codec.decode(&order_schema(), &bytes).unwrap(),
        order_payload()
    );
    assert_eq!(codec.schema(), &order_schema());
    let v1 = AvroCodec::new(user_v1()).unwrap();
    let b = v1.encode(&json!({"name": "Ada"})).unwrap();
    assert_eq!(
        v1.decode(&user_v2(), &b).unwrap(),
        json!({"name": "Ada", "age": null})
    );
    assert_eq!(
        v1.decode(&user_v3(), &b).unwrap_err(),
        decode_avro(&user_v1(), &user_v3(), &b).unwrap_err()
    );
    assert!(AvroCodec::new(MessageSchema::new("9", ver("1.0.0"))).is_err());
}

/// apache-avro draws a random sync marker (OS entropy via `rand` natively) only in its Object
/// Container File `Writer`; this module must only use the raw datum reader/writer.
#[test]
fn module_never_uses_the_container_writer() {
    let sources = [
        ("avro.rs", include_str!("avro.rs")),
        ("error.rs", include_str!("error.rs")),
        ("evolution.rs", include_str!("evolution.rs")),
        ("export.rs", include_str!("export.rs")),
        ("mod.rs", include_str!("mod.rs")),
        ("payload.rs", include_str!("payload.rs")),
        ("registry.rs", include_str!("registry.rs")),
        ("types.rs", include_str!("types.rs")),
    ];
    for (file, text) in sources {
        for (i, _) in text.match_indices("Writer") {
            let before = &text[..i];
            assert!(
                before.ends_with("GenericDatum"),
                "{file}: `Writer` not preceded by GenericDatum at byte {i}"
            );
        }
        for forbidden in ["rand::", "quad_rand", "SystemTime", "Instant", "getrandom"] {
            assert!(!text.contains(forbidden), "{file} mentions {forbidden}");
        }
    }
}
