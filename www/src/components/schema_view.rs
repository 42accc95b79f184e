//! Schemas: declared versions per channel with their change class, the compatibility table
//! (writer version × consumer), per-consumer accepted/rejected per writer version, the schema
//! dead letters, and a message inspector (click a message on the canvas or type its id).

use msgsim::scenario::Scenario;
use msgsim::schema::ChangeClass;
use msgsim::schema_view::{DecodeOutcome, MessageInspection, SchemaSnapshot};
use msgsim::MessageId;
use std::rc::Rc;
use yew::prelude::*;

fn change(c: Option<ChangeClass>) -> &'static str {
    match c {
        None => "initial",
        Some(ChangeClass::Patch) => "patch",
        Some(ChangeClass::Minor) => "minor",
        Some(ChangeClass::Major) => "major",
    }
}

/// The change between a writer and a reader version in the compatibility table: `same version`
/// when they are equal (an identical version is no patch), else the semver class of the step.
pub fn compat_change(writer: &str, reader: &str, class: ChangeClass) -> &'static str {
    if writer == reader {
        "same version"
    } else {
        change(Some(class))
    }
}

fn yes_no(b: bool) -> Html {
    html! { <span class={if b { "yes" } else { "no" }}>{ if b { "yes" } else { "no" } }</span> }
}

/// Parses `m17` or `17` into a message id.
pub fn parse_msg_id(s: &str) -> Option<MessageId> {
    let s = s.trim();
    s.strip_prefix('m').unwrap_or(s).parse().ok().map(MessageId)
}

/// The schema tables.
pub fn schema_html(s: &SchemaSnapshot) -> Html {
    html! {
        <>
        <div class="cards">
        { for s.channels.iter().map(|c| html! {
            <div class="card">
                <h3>{ format!("{} ", c.channel) }<span class="sub">{ format!("{:?} · subject {} · {} messages, {} B on the wire", c.encoding, c.subject, c.messages, c.wire_bytes) }</span></h3>
                <table class="vt"><thead><tr><th>{ "version" }</th><th>{ "id" }</th><th>{ "change" }</th><th>{ "what changed" }</th></tr></thead>
                <tbody>{ for c.versions.iter().map(|v| html! {
                    <tr><td>{ &v.version }</td><td>{ v.id }</td><td class={format!("chg-{}", change(v.change))}>{ change(v.change) }</td>
                        <td class="wrap">{ v.changes.join("; ") }</td></tr>
                }) }</tbody></table>
            </div>
        }) }
        </div>
        <p class="hint" data-testid="semver-note">{ "Semantic versioning major.minor.patch: a major release breaks readers (a field removed or made required); a minor one adds only optional fields with defaults (older readers still read it); a patch changes nothing a reader sees (a description, a fix). The robustness principle makes minor releases safe, both halves: be conservative in what you send (the writer adds only optional fields, so a reader missing them fills in its defaults) and liberal in what you accept (a tolerant reader ignores the fields it does not know; a strict reader rejects them)." }</p>
        <h3>{ "Compatibility " }<span class="sub">{ "(checked before any message flows)" }</span></h3>
        <div class="scroll"><table class="vt" data-testid="compat-table">
            <thead><tr><th>{ "channel" }</th><th>{ "writer" }</th><th>{ "consumer (reader)" }</th><th>{ "change" }</th><th>{ "reads" }</th><th>{ "reasons" }</th></tr></thead>
            <tbody>{ for s.compatibility.iter().map(|c| html! {
                <tr><td>{ &c.channel }</td><td>{ &c.writer_version }</td>
                    <td>{ format!("{} ({} {:?})", c.consumer, c.reader_version, c.mode).to_lowercase() }</td>
                    <td>{ compat_change(&c.writer_version, &c.reader_version, c.change) }</td><td>{ yes_no(c.reads) }</td>
                    <td class="wrap">{ c.reasons.join("; ") }</td></tr>
            }) }</tbody>
        </table></div>
        <h3>{ "Consumers" }</h3>
        <div class="scroll"><table class="vt">
            <thead><tr><th>{ "channel" }</th><th>{ "consumer" }</th><th>{ "per writer version: accepted / rejected" }</th><th>{ "retried" }</th><th>{ "last rejection" }</th></tr></thead>
            <tbody>{ for s.consumers.iter().map(|c| html! {
                <tr data-testid={format!("consumer-{}", c.consumer)}><td>{ &c.channel }</td>
                    <td>{ format!("{} ({} {:?})", c.consumer, c.reader_version, c.mode).to_lowercase() }</td>
                    <td>{ for c.by_writer.iter().map(|w| html! { <span class="chip">{ format!("{}: {} / ", w.version, w.accepted) }<span class={if w.rejected > 0 { "no" } else { "" }}>{ w.rejected }</span></span> }) }</td>
                    <td>{ c.retried }</td><td class="wrap no">{ c.last_reason.clone().unwrap_or_default() }</td></tr>
            }) }</tbody>
        </table></div>
        if !s.dead_letters.is_empty() {
            <h3>{ format!("Schema dead letters ({})", s.dead_letters.len()) }</h3>
            <div class="scroll short"><table class="vt">
                <thead><tr><th>{ "at" }</th><th>{ "msg" }</th><th>{ "queue" }</th><th>{ "consumer" }</th><th>{ "writer" }</th><th>{ "reason" }</th></tr></thead>
                <tbody>{ for s.dead_letters.iter().rev().take(20).map(|d| html! {
                    <tr><td>{ format!("{:.3} s", d.at.as_ms_f64() / 1e3) }</td><td>{ d.msg.to_string() }</td><td>{ &d.queue }</td>
                        <td>{ &d.consumer }</td><td>{ &d.writer }</td><td class="wrap no">{ &d.reason }</td></tr>
                }) }</tbody>
            </table></div>
        }
        </>
    }
}

/// The inspector's output for one message.
pub fn inspection_html(m: &MessageInspection) -> Html {
    let headers = {
        let h = &m.headers;
        let mut s = format!("message_id: {}", h.message_id);
        if let Some(c) = h.correlation_id {
            s.push_str(&format!("\ncorrelation_id: {c}"));
        }
        if let Some(r) = &h.reply_to {
            s.push_str(&format!("\nreply_to: {r}"));
        }
        if let Some(k) = &h.key {
            s.push_str(&format!("\nkey: {k}"));
        }
        if let Some(i) = &h.schema_id {
            s.push_str(&format!("\nschema_id: {}", i.0));
        }
        s
    };
    let payload = format!("{:#}", m.payload);
    html! {
        <div class="inspect" data-testid="inspection">
            <div class="kvs">
                <span class="kv"><span class="k">{ "message" }</span><b>{ format!("{} {:?} {}", m.msg, m.kind, m.type_name) }</b></span>
                <span class="kv"><span class="k">{ "channel" }</span><b>{ &m.channel }</b></span>
                <span class="kv"><span class="k">{ "schema" }</span><b>{ format!("{}@{} (id {})", m.schema.name, m.schema.version, m.schema_id) }</b></span>
                <span class="kv"><span class="k">{ "on the wire" }</span><b>{ format!("{:?}, {} B", m.encoding, m.wire_bytes) }</b></span>
                <span class="kv"><span class="k">{ "JSON / Avro" }</span><b>{ format!("{} B / {} B", m.json_bytes, m.avro_bytes) }</b></span>
            </div>
            <div class="k">{ "headers" }</div><pre>{ headers }</pre>
            <div class="k">{ "payload" }</div><pre>{ payload }</pre>
            <div class="k">{ format!("JSON text ({} B)", m.json_bytes) }</div><pre>{ &m.json_text }</pre>
            <div class="k">{ "JSON hex" }</div><pre class="hex">{ &m.json_hex }</pre>
            <div class="k">{ format!("Avro hex ({} B)", m.avro_bytes) }</div><pre class="hex">{ &m.avro_hex }</pre>
            <div class="k">{ "decodes" }</div>
            <table class="vt"><tbody>{ for m.decodes.iter().map(|(node, d)| {
                let (cls, what) = match &d.outcome {
                    DecodeOutcome::Accepted { value } => ("yes", format!("accepted: {value}")),
                    DecodeOutcome::Rejected { reason } => ("no", format!("rejected: {reason}")),
                    DecodeOutcome::Retry { reason } => ("no", format!("retry: {reason}")),
                };
                html! { <tr><td>{ format!("{node}#{}", d.instance) }</td><td>{ format!("reader {} {:?}", d.reader_version, d.mode).to_lowercase() }</td><td class={format!("wrap {cls}")}>{ what }</td></tr> }
            }) }</tbody></table>
            if m.decodes.is_empty() { <p class="muted">{ "not decoded by anyone yet" }</p> }
        </div>
    }
}

/// Properties of [`ApiDocs`].
#[derive(Properties, PartialEq)]
pub struct ApiDocsProps {
    /// The scenario whose documents are offered.
    pub scenario: Rc<Scenario>,
}

fn download_button(file: String, text: String, testid: String, label: String) -> Html {
    let onclick = {
        let file = file.clone();
        Callback::from(move |_: MouseEvent| {
            crate::web::download(&file, "application/json", &text);
        })
    };
    html! {
        <button class="btn" data-testid={testid} title={format!("Download {file}")} {onclick}>{ label }</button>
    }
}

/// Download buttons for the scenario's API documents: `asyncapi.json` (AsyncAPI 3.0, channels
/// with schemas, latest declared versions) and one `openapi-<service>.json` (OpenAPI 3.1) per
/// service with a REST API; a sentence says which one the scenario has none of. Nothing when it
/// has neither.
#[function_component(ApiDocs)]
pub fn api_docs(p: &ApiDocsProps) -> Html {
    let docs = use_memo(Rc::clone(&p.scenario), |s| {
        let asyncapi = crate::exports::asyncapi_json(s);
        let openapi: Vec<(String, Result<Option<String>, String>)> =
            crate::exports::api_services(s)
                .into_iter()
                .map(|svc| (svc.to_string(), crate::exports::openapi_json(s, svc)))
                .collect();
        (asyncapi, openapi)
    });
    let (asyncapi, openapi) = &*docs;
    let has_async = matches!(asyncapi, Ok(Some(_)));
    if !has_async && openapi.is_empty() && asyncapi.is_ok() {
        return html! {};
    }
    let name = &p.scenario.name;
    html! {
        <section class="panel api-docs" data-testid="api-docs" aria-label="API documents">
            <h2>{ "API documents" }<span class="sub">{ "what this scenario's contracts look like as standard API descriptions" }</span></h2>
            <div class="doc-row">
                <span class="k">{ "AsyncAPI 3.0" }</span>
                { match asyncapi {
                    Ok(Some(text)) => download_button(format!("{name}.asyncapi.json"), text.clone(), "download-asyncapi".into(), "asyncapi.json ⤓".into()),
                    Ok(None) => html! { <span class="muted" data-testid="no-asyncapi">{ "no channel of this scenario declares schemas: no AsyncAPI document" }</span> },
                    Err(e) => html! { <span class="no">{ format!("could not be written: {e}") }</span> },
                } }
            </div>
            <div class="doc-row">
                <span class="k">{ "OpenAPI 3.1" }</span>
                if openapi.is_empty() {
                    <span class="muted" data-testid="no-openapi">{ "this scenario has no REST endpoints: no OpenAPI document" }</span>
                }
                { for openapi.iter().map(|(svc, doc)| match doc {
                    Ok(Some(text)) => download_button(format!("{name}.openapi-{svc}.json"), text.clone(), format!("download-openapi-{svc}"), format!("{svc} ⤓")),
                    Ok(None) => html! {},
                    Err(e) => html! { <span class="no">{ format!("{svc}: could not be written: {e}") }</span> },
                }) }
            </div>
            if !openapi.is_empty() {
                <p class="hint">{ "One OpenAPI document per service with an API. Bodies are open JSON objects (the scenario declares no body schemas); endpoints sharing a method and path (level 0/1 APIs pick the operation from the body) are one operation whose summary names them." }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_parse_with_or_without_the_m() {
        assert_eq!(parse_msg_id(" m17 "), Some(MessageId(17)));
        assert_eq!(parse_msg_id("4"), Some(MessageId(4)));
        assert_eq!(parse_msg_id("x"), None);
    }
}
