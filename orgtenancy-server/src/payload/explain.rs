//! Why a JSON body does not fit its type, in words that name the field.
//!
//! poem-openapi reports `failed to parse "UserCreate": Expected input type "string", found
//! null` without saying which field. When a body fails to parse, the server walks the body
//! against the type's own OpenAPI schema (the registry the document is built from, so the
//! two cannot disagree) and reports the first field at fault by its path (`name`,
//! `subject.id`, `san_dns_names[1]`): a missing or `null` required field, a value of the wrong
//! type or outside the schema's enumeration, length or range, or an unknown field.

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{Email, ParseFromJSON},
};
use serde_json::{Map, Value};

use crate::validate;

/// The first problem of `value` against `schema`, or `None` when the schema finds none (the
/// caller then falls back to the parser's own message).
pub(super) fn explain(
    value: &Value,
    schema: &MetaSchemaRef,
    registry: &Registry,
) -> Option<String> {
    walk(value, schema, registry, "")
}

fn resolve<'a>(schema: &'a MetaSchemaRef, registry: &'a Registry) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(schema) => Some(schema),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

fn walk(value: &Value, schema: &MetaSchemaRef, registry: &Registry, path: &str) -> Option<String> {
    let schema = resolve(schema, registry)?;
    if !schema.all_of.is_empty() {
        // How poem-openapi attaches a description or default to a referenced type.
        return schema
            .all_of
            .iter()
            .find_map(|part| walk(value, part, registry, path));
    }
    let shown = if path.is_empty() { "body" } else { path };
    match (schema.ty, value) {
        ("object", Value::Object(fields)) => object(fields, schema, registry, path),
        ("string", Value::String(text)) => string(text, schema, shown),
        ("integer", Value::Number(number)) if number.is_i64() || number.is_u64() => {
            number_range(number.as_f64(), schema, shown)
        }
        ("number", Value::Number(number)) => number_range(number.as_f64(), schema, shown),
        ("boolean", Value::Bool(_)) => None,
        ("array", Value::Array(items)) => array(items, schema, registry, path),
        (ty @ ("object" | "string" | "integer" | "number" | "boolean" | "array"), other) => {
            Some(format!(
                "invalid {shown}: expected {}, found {}",
                article(ty),
                kind(other)
            ))
        }
        _ => None,
    }
}

fn object(
    fields: &Map<String, Value>,
    schema: &MetaSchema,
    registry: &Registry,
    path: &str,
) -> Option<String> {
    let at = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    for name in &schema.required {
        if fields.get(*name).is_none_or(Value::is_null) {
            return Some(format!("missing field `{}`", at(name)));
        }
    }
    for (name, field) in &schema.properties {
        match fields.get(*name) {
            None | Some(Value::Null) => {}
            Some(value) => {
                if let Some(problem) = walk(value, field, registry, &at(name)) {
                    return Some(problem);
                }
            }
        }
    }
    if schema.additional_properties.is_none() {
        let known = |name: &String| schema.properties.iter().any(|(known, _)| known == name);
        if let Some(unknown) = fields.keys().find(|name| !known(name)) {
            return Some(format!("unknown field `{}`", at(unknown)));
        }
    }
    None
}

fn string(text: &str, schema: &MetaSchema, shown: &str) -> Option<String> {
    if !schema.enum_items.is_empty() && !schema.enum_items.iter().any(|item| item == text) {
        let names: Vec<String> = schema
            .enum_items
            .iter()
            .filter_map(Value::as_str)
            .map(|name| format!("`{name}`"))
            .collect();
        let got: String = text.chars().take(64).collect();
        return Some(format!(
            "invalid {shown}: expected one of {}, got `{got}`",
            names.join(", ")
        ));
    }
    if schema.format == Some("email") && Email::parse_from_json(Some(text.into())).is_err() {
        return Some(format!("invalid {shown}: not a valid email address"));
    }
    let chars = text.chars().count();
    if let Some(min) = schema.min_length.filter(|min| chars < *min) {
        return Some(validate::too_short(shown, min));
    }
    if let Some(max) = schema.max_length.filter(|max| chars > *max) {
        return Some(validate::too_long(shown, max));
    }
    None
}

fn number_range(number: Option<f64>, schema: &MetaSchema, shown: &str) -> Option<String> {
    let number = number?;
    let (min, max) = (schema.minimum, schema.maximum);
    let outside = min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max);
    if !outside {
        return None;
    }
    Some(match (min, max) {
        (Some(min), Some(max)) => format!("invalid {shown}: must be between {min} and {max}"),
        (Some(min), None) => format!("invalid {shown}: must be at least {min}"),
        (None, Some(max)) => format!("invalid {shown}: must be at most {max}"),
        (None, None) => return None,
    })
}

fn array(items: &[Value], schema: &MetaSchema, registry: &Registry, path: &str) -> Option<String> {
    let item_schema = schema.items.as_deref()?;
    items.iter().enumerate().find_map(|(index, item)| {
        let at = format!("{path}[{index}]");
        if item.is_null() {
            return Some(format!(
                "invalid {at}: expected {}, found null",
                item_kind(item_schema, registry)
            ));
        }
        walk(item, item_schema, registry, &at)
    })
}

fn item_kind(schema: &MetaSchemaRef, registry: &Registry) -> &'static str {
    resolve(schema, registry).map_or("a value", |schema| article(schema.ty))
}

fn article(ty: &str) -> &'static str {
    match ty {
        "object" => "an object",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "array" => "an array",
        _ => "a value",
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
