//! Requests and replies over a reply channel, correlated by message id.
//!
//! A request is a message with a `reply_to` header (the reply channel). Every handler run of a
//! request sends a reply (kind `reply`, `correlation_id` = the request's id) to the reply channel.
//! The requester keeps its pending requests in a correlation table:
//!
//! - request/async response (`reply_timeout_ms`): the first reply in time completes the request;
//!   the timeout fails it. A reply whose request has timed out is discarded and counted as late
//!   (`late_replies`); it is never handed to another request, because replies are matched by
//!   correlation id only.
//! - publish/async responses (`collect_ms`): replies are collected (one per responding service)
//!   until the window closes; then the requester decides with what it has, and the decision is
//!   recorded with the number of replies. Later replies are late.
//!
//! The table belongs to the requesting service; a pending request dies with the instance that
//! sent it (abandoned).

use super::*;
use crate::scenario::MessageTemplate;

impl Simulation {
    /// Registers `msg` as a pending request if its template makes it one, and starts its timer.
    pub(super) fn register_request(
        &mut self,
        ep: Ep,
        channel: u32,
        t: &MessageTemplate,
        msg: &Message,
    ) {
        let Some(reply_to) = &t.reply_to else {
            return;
        };
        let (window_ms, collect) = match (t.reply_timeout_ms, t.collect_ms) {
            (_, Some(w)) => (w, true),
            (Some(w), None) => (w, false),
            (None, None) => return, // validated: never
        };
        let until = self.now.plus_ms(window_ms);
        let node = ep.node as usize;
        if self.messaging.nodes[node].requests.len() >= bounds::MAX_PENDING_REQUESTS {
            if let Some((&oldest, _)) = self.messaging.nodes[node].requests.first_key_value() {
                self.finish_request(ep.node, oldest, RequestOutcome::Abandoned);
                self.metrics.requests_abandoned += 1;
            }
        }
        if self.queue.len() >= bounds::MAX_PENDING_EVENTS {
            // No room for its timer: the request goes out untracked, counted as abandoned.
            self.metrics.requests += 1;
            self.nodes[node].metrics.requests += 1;
            self.metrics.requests_abandoned += 1;
            return;
        }
        let expected = self.messaging.channels[channel as usize].responders;
        self.messaging.nodes[node].requests.insert(
            msg.id,
            PendingRequest {
                instance: ep.instance,
                type_name: msg.type_name.to_string(),
                sent_at: self.now,
                until,
                collect,
                expected,
                responders: Vec::new(),
            },
        );
        self.metrics.requests += 1;
        self.nodes[node].metrics.requests += 1;
        if self.trace.enabled() {
            let what = TraceKind::RequestSent {
                at: self.endpoint(ep),
                msg: msg.id,
                reply_to: Arc::from(reply_to.as_str()),
                until,
                collect,
            };
            self.trace.push(self.now, what);
        }
        let incarnation = self.inst(ep).incarnation;
        self.schedule(
            until,
            Event::RequestTimeout {
                node: ep.node,
                instance: ep.instance,
                incarnation,
                msg: msg.id,
            },
        );
    }

    /// A responder finished handling `request`: if it asks for a reply, send one on its reply
    /// channel (through the broker with publisher confirms, or directly).
    pub(super) fn send_reply(&mut self, ep: Ep, request: &Message) {
        let Some(reply_to) = &request.headers.reply_to else {
            return;
        };
        let Some(channel) = self
            .scenario
            .channels
            .iter()
            .position(|c| *c.name == **reply_to)
        else {
            return; // validated: never
        };
        let id = self.next_message_id();
        let responder = self.nodes[ep.node as usize].name.to_string();
        let type_name = self
            .messaging
            .reply_types
            .get(&*request.type_name)
            .cloned()
            .unwrap_or_else(|| format!("{}Reply", request.type_name));
        let reply = Arc::new(Message {
            encoded: None,
            id,
            kind: MessageKind::Reply,
            type_name: type_name.into(),
            channel: reply_to.clone(),
            headers: Headers {
                schema_id: None,
                message_id: id,
                correlation_id: Some(request.id),
                reply_to: None,
                key: request.headers.key.clone(),
            },
            payload: serde_json::json!({ "responder": responder, "request": request.id.0 }).into(),
        });
        self.metrics.replies += 1;
        self.nodes[ep.node as usize].metrics.replies_sent += 1;
        if self.trace.enabled() {
            let what = TraceKind::ReplySent {
                at: self.endpoint(ep),
                msg: id,
                correlation: request.id,
                channel: Arc::clone(reply_to),
            };
            self.trace.push(self.now, what);
        }
        self.publish(ep, channel as u32, reply, 1);
    }

    /// The timer of request `msg` fired: a request/async response times out; a publish/async
    /// responses request decides with the replies it has.
    pub(super) fn request_timeout(&mut self, ep: Ep, msg: MessageId) {
        let Some(r) = self.messaging.nodes[ep.node as usize].requests.get(&msg) else {
            return; // completed before
        };
        let (collect, replies, expected) = (r.collect, r.responders.len() as u32, r.expected);
        let node = &mut self.nodes[ep.node as usize].metrics;
        let what = if collect {
            node.decisions += 1;
            self.metrics.decisions += 1;
            TraceKind::Decided {
                at: self.endpoint(ep),
                msg,
                replies,
                expected,
            }
        } else {
            node.requests_timed_out += 1;
            self.metrics.requests_timed_out += 1;
            TraceKind::RequestTimedOut {
                at: self.endpoint(ep),
                msg,
            }
        };
        if self.trace.enabled() {
            self.trace.push(self.now, what);
        }
        let outcome = if collect {
            RequestOutcome::Decided
        } else {
            RequestOutcome::TimedOut
        };
        self.finish_request(ep.node, msg, outcome);
    }

    /// Moves a pending request to the finished ones (bounded) and the visible outcomes.
    pub(super) fn finish_request(&mut self, node: u32, msg: MessageId, outcome: RequestOutcome) {
        let now = self.now;
        let ns = &mut self.messaging.nodes[node as usize];
        let Some(r) = ns.requests.remove(&msg) else {
            return;
        };
        ns.finished.insert(msg, outcome);
        if ns.finished.len() > bounds::MAX_FINISHED_REQUESTS {
            ns.finished.pop_first();
        }
        if ns.outcomes.len() >= MAX_REQUEST_ROWS {
            ns.outcomes.pop_front();
        }
        let responders = r
            .responders
            .iter()
            .map(|&n| self.nodes[n as usize].name.to_string())
            .collect();
        ns.outcomes.push_back(RequestOutcomeView {
            msg,
            type_name: r.type_name,
            sent_at: r.sent_at,
            finished_at: now,
            outcome,
            replies: r.responders.len() as u32,
            expected: r.expected,
            responders,
        });
    }

    /// A requester's handler got a reply: complete, collect or discard it by its correlation id.
    pub(super) fn handle_reply(&mut self, ep: Ep, d: Delivery) {
        let Some(correlation) = d.msg.headers.correlation_id else {
            return;
        };
        let node = &mut self.nodes[ep.node as usize];
        node.metrics.processed += 1;
        self.metrics.processed += 1;
        if node.processed_ids.insert(d.msg.id) {
            node.metrics.distinct += 1;
        }
        let responder = d
            .msg
            .payload
            .value()
            .get("responder")
            .and_then(|v| v.as_str())
            .and_then(|n| self.node_id(n));
        let at = self.endpoint(ep);
        let now = self.now;
        let ns = &mut self.messaging.nodes[ep.node as usize];
        let what = match ns.requests.get_mut(&correlation) {
            Some(r) if !r.collect => {
                r.responders.extend(responder);
                let elapsed = SimTime(now.0.saturating_sub(r.sent_at.0));
                self.metrics.requests_completed += 1;
                self.nodes[ep.node as usize].metrics.requests_completed += 1;
                self.finish_request(ep.node, correlation, RequestOutcome::Completed);
                TraceKind::RequestCompleted {
                    at,
                    msg: d.msg.id,
                    correlation,
                    elapsed,
                }
            }
            Some(r) if responder.is_none_or(|n| !r.responders.contains(&n)) => {
                r.responders.extend(responder);
                TraceKind::ReplyCollected {
                    at,
                    msg: d.msg.id,
                    correlation,
                    responder: responder
                        .map(|n| Arc::clone(&self.nodes[n as usize].name))
                        .unwrap_or_else(|| Arc::from("?")),
                    replies: r.responders.len() as u32,
                }
            }
            found => {
                let reason = match (found, ns.finished.get(&correlation)) {
                    (Some(_), _) | (None, Some(RequestOutcome::Completed)) => {
                        ReplyDiscard::Duplicate
                    }
                    _ => ReplyDiscard::Late,
                };
                let m = &mut self.nodes[ep.node as usize].metrics;
                match reason {
                    ReplyDiscard::Late => {
                        m.late_replies += 1;
                        self.metrics.late_replies += 1;
                    }
                    ReplyDiscard::Duplicate => {
                        m.duplicate_replies += 1;
                        self.metrics.duplicate_replies += 1;
                    }
                }
                TraceKind::ReplyDiscarded {
                    at,
                    msg: d.msg.id,
                    correlation,
                    reason,
                }
            }
        };
        if self.trace.enabled() {
            self.trace.push(now, what);
        }
        self.finish_delivery(ep, d, false);
    }
}
