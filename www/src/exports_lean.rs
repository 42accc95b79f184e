//! [`crate::exports`] in the lean widget build (without the `full` feature): the engine is built
//! without its `export` feature, so there is nothing to export. Same names as the full module;
//! the widget never shows the panels that call them.

use msgsim::scenario::Scenario;

/// What the functions below answer.
pub const NO_EXPORT: &str = "this build has no exports (the lean widget; open the full playground)";

/// Always `Err(NO_EXPORT)`.
pub fn asyncapi_json(_s: &Scenario) -> Result<Option<String>, String> {
    Err(NO_EXPORT.into())
}

/// Always empty.
pub fn api_services(_s: &Scenario) -> Vec<&str> {
    Vec::new()
}

/// Always `Err(NO_EXPORT)`.
pub fn openapi_json(_s: &Scenario, _service: &str) -> Result<Option<String>, String> {
    Err(NO_EXPORT.into())
}

/// Always empty.
pub fn trace_jsonl<'a>(_events: impl IntoIterator<Item = &'a msgsim::TraceEvent>) -> String {
    String::new()
}

/// Always the empty diagram `sequenceDiagram\n`.
pub fn mermaid_sequence<'a>(
    _scenario: &Scenario,
    _events: impl IntoIterator<Item = &'a msgsim::TraceEvent>,
    _max_arrows: usize,
) -> String {
    "sequenceDiagram\n".into()
}
