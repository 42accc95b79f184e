//! Recent outcomes of synchronous calls, read from the tail of the trace, for the canvas: a
//! retry shows its attempt number and backoff delay; a timeout, a rejected call (circuit
//! breaker, bulkhead, rate limiter), a fallback and a plain failure each get their own mark.
//!
//! Pure: the marks depend only on the trace and the virtual time, so a paused, seeked or
//! replayed run shows the same marks.

use msgsim::sync::error_kinds as ek;
use msgsim::sync::RetryLayer;
use msgsim::trace::{TraceEvent, TraceKind};
use msgsim::SimTime;

/// How long (virtual µs) a mark stays on the canvas after its event.
pub const MARK_WINDOW_US: u64 = 600_000;
/// Trace events looked at from the end at most (the ring buffer may hold 10 000).
pub const MARK_SCAN_EVENTS: usize = 4_000;
/// Marks kept per node (the newest).
pub const MARKS_PER_NODE: usize = 3;

/// What a mark says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A retry layer will try again: the next attempt's number and the backoff.
    Retry {
        /// Client (proxy) or application retry.
        layer: RetryLayer,
        /// Number of the next attempt.
        attempt: u32,
        /// Backoff, µs.
        wait_us: u64,
    },
    /// An attempt timed out (time limiter or HTTP read timeout).
    Timeout {
        /// The error kind (`TimeoutException`, `SocketTimeoutException`).
        error: String,
    },
    /// An attempt was rejected before it left the client (breaker OPEN, bulkhead full, no rate
    /// limiter permission).
    Rejected {
        /// `breaker`, `bulkhead` or `limiter`.
        by: &'static str,
    },
    /// The proxy answered with its fallback.
    Fallback {
        /// The fallback's status.
        status: u16,
    },
    /// An attempt failed otherwise (5xx, 4xx, connection refused, no instance).
    Failure {
        /// Status, when a response came.
        status: Option<u16>,
        /// The error kind.
        error: String,
    },
}

impl MarkKind {
    /// CSS class (`mark-retry`, `mark-timeout`, `mark-rejected`, `mark-fallback`,
    /// `mark-failure`).
    pub fn class(&self) -> &'static str {
        match self {
            MarkKind::Retry { .. } => "mark-retry",
            MarkKind::Timeout { .. } => "mark-timeout",
            MarkKind::Rejected { .. } => "mark-rejected",
            MarkKind::Fallback { .. } => "mark-fallback",
            MarkKind::Failure { .. } => "mark-failure",
        }
    }

    /// Its icon: ↻ retry, ◴ timeout, ⊘ rejected, ↩ fallback, ✕ failure.
    pub fn icon(&self) -> &'static str {
        match self {
            MarkKind::Retry { .. } => "↻",
            MarkKind::Timeout { .. } => "◴",
            MarkKind::Rejected { .. } => "⊘",
            MarkKind::Fallback { .. } => "↩",
            MarkKind::Failure { .. } => "✕",
        }
    }

    /// The short text drawn beside the icon: `attempt 2 in 150 ms`, `timeout`, `rejected:
    /// breaker`, `fallback 200`, `500`, `ConnectException`.
    pub fn text(&self) -> String {
        match self {
            MarkKind::Retry {
                layer,
                attempt,
                wait_us,
            } => format!(
                "{}attempt {attempt} in {}",
                if *layer == RetryLayer::Application {
                    "app "
                } else {
                    ""
                },
                crate::format::format_us(*wait_us)
            ),
            MarkKind::Timeout { .. } => "timeout".into(),
            MarkKind::Rejected { by } => format!("rejected: {by}"),
            MarkKind::Fallback { status } => format!("fallback {status}"),
            MarkKind::Failure {
                status: Some(s), ..
            } => format!("failed {s}"),
            MarkKind::Failure { error, .. } => match error.as_str() {
                ek::CONNECT => "refused".into(),
                ek::NO_INSTANCES => "no instance".into(),
                e => crate::format::shorten(e, 18),
            },
        }
    }
}

/// One mark on a client node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallMark {
    /// Trace position (key).
    pub seq: u64,
    /// When it happened.
    pub at: SimTime,
    /// Client node.
    pub node: String,
    /// Client instance.
    pub instance: u32,
    /// Logical call id.
    pub call: u64,
    /// What.
    pub kind: MarkKind,
}

impl CallMark {
    /// The hover text / accessible label: `shop-b#0 c17: attempt 2 in 150 ms (client retry)`.
    pub fn label(&self) -> String {
        let detail = match &self.kind {
            MarkKind::Retry { layer, .. } => format!(" ({} retry)", layer.as_str()),
            MarkKind::Timeout { error } | MarkKind::Failure { error, .. } => format!(" ({error})"),
            MarkKind::Rejected { by } => format!(
                " ({})",
                match *by {
                    "breaker" => "CallNotPermittedException: circuit breaker OPEN",
                    "bulkhead" => "BulkheadFullException",
                    _ => "RequestNotPermitted",
                }
            ),
            MarkKind::Fallback { .. } => String::new(),
        };
        format!(
            "{}#{} c{} at {}: {} {}{detail}",
            self.node,
            self.instance,
            self.call,
            crate::format::format_secs(self.at),
            self.kind.icon(),
            self.kind.text()
        )
    }
}

/// The mark of one trace event, if it is a call outcome worth drawing. A successful attempt
/// makes no mark (the response on the wire shows it).
pub fn mark_of(ev: &TraceEvent) -> Option<CallMark> {
    let (at, call, kind) = match &ev.what {
        TraceKind::CallRetry {
            at,
            call,
            layer,
            attempt,
            wait_us,
        } => (
            at,
            *call,
            MarkKind::Retry {
                layer: *layer,
                attempt: *attempt,
                wait_us: *wait_us,
            },
        ),
        TraceKind::CallFallback {
            at, call, status, ..
        } => (at, *call, MarkKind::Fallback { status: *status }),
        TraceKind::CallResult {
            at,
            call,
            status,
            error: Some(error),
            ..
        } => {
            let kind = match error.as_ref() {
                ek::TIMEOUT | ek::SOCKET_TIMEOUT => MarkKind::Timeout {
                    error: error.to_string(),
                },
                ek::CALL_NOT_PERMITTED => MarkKind::Rejected { by: "breaker" },
                ek::BULKHEAD_FULL => MarkKind::Rejected { by: "bulkhead" },
                ek::REQUEST_NOT_PERMITTED => MarkKind::Rejected { by: "limiter" },
                e => MarkKind::Failure {
                    status: *status,
                    error: e.to_string(),
                },
            };
            (at, *call, kind)
        }
        _ => return None,
    };
    Some(CallMark {
        seq: ev.seq,
        at: ev.time,
        node: at.node.to_string(),
        instance: at.instance,
        call,
        kind,
    })
}

/// The marks of the events in `(now - MARK_WINDOW_US, now]`, newest first, at most
/// [`MARKS_PER_NODE`] per node; `events` is the trace from its newest event backwards.
pub fn recent<'a>(events: impl Iterator<Item = &'a TraceEvent>, now: SimTime) -> Vec<CallMark> {
    let from = now.0.saturating_sub(MARK_WINDOW_US);
    let mut out: Vec<CallMark> = Vec::new();
    for ev in events.take(MARK_SCAN_EVENTS) {
        if now.0 >= MARK_WINDOW_US && ev.time.0 <= from {
            break;
        }
        if ev.time > now {
            continue;
        }
        if let Some(m) = mark_of(ev) {
            if out.iter().filter(|o| o.node == m.node).count() < MARKS_PER_NODE {
                out.push(m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::Simulation;

    fn marks_at(name: &str, seed: u64, t_ms: u64) -> Vec<String> {
        let mut sim = Simulation::from_json(msgsim::scenarios::get(name).unwrap(), seed).unwrap();
        sim.run_until(SimTime::from_ms(t_ms), u64::MAX);
        recent(sim.trace().events().rev(), sim.now())
            .iter()
            .map(CallMark::label)
            .collect()
    }

    #[test]
    fn retries_show_their_attempt_and_backoff() {
        let all: Vec<CallMark> = {
            let mut sim =
                Simulation::from_json(msgsim::scenarios::get("timeouts-retries").unwrap(), 7)
                    .unwrap();
            sim.run_to_idle(10_000_000);
            sim.trace().events().filter_map(mark_of).collect()
        };
        let first = |f: fn(&MarkKind) -> bool| all.iter().find(|m| f(&m.kind)).unwrap().label();
        assert_eq!(
            [
                first(|k| matches!(k, MarkKind::Retry { .. })),
                first(|k| matches!(k, MarkKind::Timeout { .. })),
                first(|k| matches!(k, MarkKind::Failure { .. })),
            ],
            [
                "checkout#0 c4 at 0.360 s: ↻ attempt 2 in 63.8 ms (client retry)",
                "cart#0 c5 at 0.700 s: ◴ timeout (TimeoutException)",
                "checkout#0 c4 at 0.360 s: ✕ failed 500 (HttpServerErrorException)",
            ]
        );
    }

    #[test]
    fn an_open_breaker_rejects_and_the_fallback_answers() {
        let m = marks_at("circuit-breaker", 11, 7_500);
        // Newest first, at most three per node; checkout-b's breaker opened at 6.63 s.
        assert_eq!(
            m,
            [
                "shop-a#0 c225 at 7.420 s: ✕ failed 500 (HttpServerErrorException)",
                "checkout-a#0 c251 at 7.410 s: ◴ timeout (TimeoutException)",
                "checkout-b#0 c287 at 7.410 s: ↩ fallback 200",
                "checkout-b#0 c287 at 7.410 s: ⊘ rejected: breaker (CallNotPermittedException: circuit breaker OPEN)",
                "checkout-b#0 c284 at 7.310 s: ↩ fallback 200",
                "shop-a#0 c223 at 6.920 s: ✕ failed 500 (HttpServerErrorException)",
                "checkout-a#0 c239 at 6.910 s: ◴ timeout (TimeoutException)",
            ]
        );
    }
}
