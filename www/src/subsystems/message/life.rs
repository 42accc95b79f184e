//! The life of one message so far, read from the trace: sent, duplicated by the network, held,
//! dropped, enqueued, delivered, redelivered, processed by whom, acked, dead-lettered, replied
//! to, with times. Pure: tested natively against real runs.

use crate::explain::Tone;
use crate::format::format_secs;
use msgsim::network::DropReason;
use msgsim::trace::{FailureOutcome, PacketKind, RedeliveryReason, ReplyDiscard};
use msgsim::{MessageId, SimTime, TraceEvent, TraceKind};
use std::collections::BTreeSet;

/// Lines kept (the oldest first; later ones are counted, not kept).
pub const MAX_LIFE_LINES: usize = 200;

/// One step of a message's life.
#[derive(Clone, Debug, PartialEq)]
pub struct LifeLine {
    /// Trace position (a stable key).
    pub seq: u64,
    /// When.
    pub time: SimTime,
    /// What happened, in words.
    pub text: String,
    /// Colour.
    pub tone: Tone,
}

impl LifeLine {
    /// `1.250 s  sent by order#0 to broker (publish)`.
    pub fn line(&self) -> String {
        format!("{}  {}", format_secs(self.time), self.text)
    }
}

/// The life of `msg` in `events` (in trace order): at most [`MAX_LIFE_LINES`] lines, and how
/// many more there were.
pub fn life_of<'a>(
    events: impl IntoIterator<Item = &'a TraceEvent>,
    msg: MessageId,
) -> (Vec<LifeLine>, usize) {
    let mut lines = Vec::new();
    let mut more = 0usize;
    // Transits of this message (to recognise a release of a held copy).
    let mut transits: BTreeSet<u64> = BTreeSet::new();
    for ev in events {
        let Some((tone, text)) = step(ev, msg, &mut transits) else {
            continue;
        };
        if lines.len() < MAX_LIFE_LINES {
            lines.push(LifeLine {
                seq: ev.seq,
                time: ev.time,
                text,
                tone,
            });
        } else {
            more += 1;
        }
    }
    (lines, more)
}

fn packet_words(p: PacketKind) -> &'static str {
    match p {
        PacketKind::Publish => "publish",
        PacketKind::PublishAck => "publisher confirm",
        PacketKind::Deliver => "delivery",
        PacketKind::Ack => "ack",
        PacketKind::Nack => "nack",
        PacketKind::PublishNack => "publish rejection",
        PacketKind::Request => "request",
        PacketKind::Response => "reply",
        PacketKind::HttpRequest => "HTTP request",
        PacketKind::HttpResponse => "HTTP response",
        PacketKind::Reset => "connection reset",
        PacketKind::Direct => "brokerless send",
        PacketKind::Produce => "produce request",
        PacketKind::ProduceResponse => "produce response",
        other => other.as_str(),
    }
}

fn step(ev: &TraceEvent, id: MessageId, transits: &mut BTreeSet<u64>) -> Option<(Tone, String)> {
    Some(match &ev.what {
        TraceKind::Send {
            transit,
            from,
            to,
            packet,
            msg,
            attempt,
            duplicate,
        } if *msg == id => {
            transits.insert(*transit);
            let again = if *attempt > 1 {
                format!(", attempt {attempt}")
            } else {
                String::new()
            };
            if *duplicate {
                (
                    Tone::Duplicate,
                    format!(
                        "the network duplicated the {} {from} → {to}: a second copy travels",
                        packet_words(*packet)
                    ),
                )
            } else {
                (
                    if *attempt > 1 {
                        Tone::Retry
                    } else {
                        Tone::Normal
                    },
                    format!("{} sent {from} → {to}{again}", packet_words(*packet)),
                )
            }
        }
        TraceKind::Release { transit } if transits.contains(transit) => (
            Tone::Retry,
            "released from the held link: it travels on now".to_string(),
        ),
        TraceKind::Drop {
            from,
            to,
            packet,
            msg,
            reason,
            ..
        } if *msg == id => (
            Tone::Loss,
            format!(
                "{} dropped on {from} → {to}: {}",
                packet_words(*packet),
                match reason {
                    DropReason::Loss => "lost by the network",
                    DropReason::Partition => "the link is partitioned",
                    DropReason::NodeDown => "the receiver is down",
                    DropReason::Overflow => "a buffer was full",
                }
            ),
        ),
        TraceKind::Enqueue { queue, msg, depth } if *msg == id => {
            (Tone::Normal, format!("enqueued on {queue} (depth {depth})"))
        }
        TraceKind::Overflow { queue, msg } if *msg == id => {
            (Tone::Loss, format!("refused by {queue}: the queue is full"))
        }
        TraceKind::Redeliver {
            queue,
            msg,
            attempt,
            reason,
        } if *msg == id => (
            Tone::Retry,
            format!(
                "put back on {queue} for redelivery (attempt {attempt}): {}",
                match reason {
                    RedeliveryReason::AckTimeout => "no ack within the ack timeout",
                    RedeliveryReason::ConnectionReset => "its consumer crashed before acking",
                    RedeliveryReason::BrokerRestart => "the broker restarted",
                    RedeliveryReason::Nacked => "its consumer nacked it",
                }
            ),
        ),
        TraceKind::DeadLetter {
            queue,
            msg,
            attempts,
        } if *msg == id => (
            Tone::Loss,
            format!("dead-lettered from {queue} after {attempts} deliveries"),
        ),
        TraceKind::Rejected { queue, msg, reason } if *msg == id => (
            Tone::Loss,
            format!("dead-lettered from {queue}: its consumer rejected it ({reason})"),
        ),
        TraceKind::Acked {
            queue,
            msg,
            outstanding,
        } if *msg == id => (
            Tone::Normal,
            if *outstanding {
                format!("ack reached the broker: removed from {queue}")
            } else {
                format!("a late ack reached {queue}: already redelivered or gone, ignored")
            },
        ),
        TraceKind::Nacked {
            queue,
            msg,
            requeue,
            ..
        } if *msg == id => (
            Tone::Retry,
            format!(
                "nacked on {queue} ({})",
                if *requeue {
                    "requeue"
                } else {
                    "to the dead-letter queue"
                }
            ),
        ),
        TraceKind::Process {
            at,
            msg,
            attempt,
            applied,
        } if *msg == id => {
            if *applied {
                (
                    if *attempt > 1 {
                        Tone::Retry
                    } else {
                        Tone::Normal
                    },
                    format!("processed by {at} (delivery attempt {attempt}): effect applied"),
                )
            } else {
                (
                    Tone::Duplicate,
                    format!("{at} recognised a repeat and discarded it (deduplication)"),
                )
            }
        }
        TraceKind::IdempotentSet {
            at,
            msg,
            key,
            changed,
        } if *msg == id => (
            if *changed {
                Tone::Normal
            } else {
                Tone::Duplicate
            },
            if *changed {
                format!("{at} set the state of key {key}")
            } else {
                format!("{at} set key {key} to the state it already had: no change")
            },
        ),
        TraceKind::HandlerFailed {
            at,
            msg,
            attempt,
            outcome,
        } if *msg == id => (
            Tone::Retry,
            format!(
                "{at}'s handler failed on it (attempt {attempt}): {}",
                match outcome {
                    FailureOutcome::Requeue => "nacked for redelivery",
                    FailureOutcome::DeadLetter => "nacked to the dead-letter queue",
                    FailureOutcome::Lost => "brokerless, so it is lost",
                }
            ),
        ),
        TraceKind::Retry { at, msg, attempt } if *msg == id => (
            Tone::Retry,
            format!("{at} got no confirm in time and publishes it again (attempt {attempt})"),
        ),
        TraceKind::GiveUp { at, msg, attempts } if *msg == id => (
            Tone::Loss,
            format!("{at} gave up after {attempts} attempts: lost"),
        ),
        TraceKind::BrokerDuplicate { channel, msg, .. } if *msg == id => (
            Tone::Duplicate,
            format!("{channel}'s duplicate detection recognised it: confirmed, not enqueued again"),
        ),
        TraceKind::PublishRejected { channel, msg } if *msg == id => (
            Tone::Retry,
            format!("the broker rejected its publish to {channel} (nack)"),
        ),
        TraceKind::RequestSent {
            at,
            msg,
            reply_to,
            until,
            ..
        } if *msg == id => (
            Tone::Normal,
            format!(
                "{at} sent it as a request: reply channel {reply_to}, waits until {}",
                format_secs(*until)
            ),
        ),
        TraceKind::ReplySent {
            at,
            msg,
            correlation,
            channel,
        } if *msg == id || *correlation == id => (
            Tone::Normal,
            if *msg == id {
                format!("{at} sent it as the reply to {correlation} on {channel}")
            } else {
                format!("{at} answered it with reply {msg} on {channel}")
            },
        ),
        TraceKind::RequestCompleted {
            at,
            msg,
            correlation,
            elapsed,
        } if *msg == id || *correlation == id => (
            Tone::Normal,
            format!(
                "{at} completed request {correlation} with reply {msg} after {}",
                crate::format::format_us(elapsed.as_us())
            ),
        ),
        TraceKind::RequestTimedOut { at, msg } if *msg == id => (
            Tone::Loss,
            format!("{at}'s request timed out with no reply"),
        ),
        TraceKind::ReplyDiscarded {
            at,
            msg,
            correlation,
            reason,
        } if *msg == id || *correlation == id => (
            Tone::Duplicate,
            format!(
                "{at} discarded reply {msg} to {correlation} ({})",
                match reason {
                    ReplyDiscard::Late => "late",
                    ReplyDiscard::Duplicate => "duplicate",
                }
            ),
        ),
        TraceKind::Encode {
            at,
            msg,
            schema,
            schema_id,
            encoding,
            ..
        } if *msg == id => (
            Tone::Normal,
            format!("{at} encoded it with {schema} (id {schema_id}) as {encoding}"),
        ),
        TraceKind::ProduceRejected { at, msg, reason } if *msg == id => {
            (Tone::Loss, format!("{at} refused to send it: {reason}"))
        }
        TraceKind::Decode {
            at,
            msg,
            writer,
            reader,
            mode,
            rejected,
        } if *msg == id => match rejected {
            None => (
                Tone::Normal,
                format!("{at} decoded it (writer {writer}, reader {reader}, {mode})"),
            ),
            Some(r) => (
                Tone::Loss,
                format!("{at} rejected it (writer {writer}, reader {reader}, {mode}): {r}"),
            ),
        },
        TraceKind::LookupTimeout { at, msg, schema_id } if *msg == id => (
            Tone::Retry,
            format!("{at} could not fetch schema id {schema_id} in time: nacked"),
        ),
        TraceKind::Produce {
            at,
            tp,
            msg,
            attempt,
            ..
        } if *msg == id => (
            if *attempt > 1 {
                Tone::Retry
            } else {
                Tone::Normal
            },
            format!("{at} produced it to {tp} (attempt {attempt})"),
        ),
        TraceKind::Append {
            tp, msg, offset, ..
        } if *msg == id => (Tone::Normal, format!("appended to {tp} at offset {offset}")),
        TraceKind::DuplicateAppend {
            tp, msg, offset, ..
        } if *msg == id => (
            Tone::Duplicate,
            format!("a retried copy was recognised at {tp} offset {offset}: not appended again"),
        ),
        TraceKind::ProduceRetry {
            at,
            msg,
            attempt,
            error,
            ..
        } if *msg == id => (
            Tone::Retry,
            format!("{at} will resend it (attempt {attempt}) after {error}"),
        ),
        TraceKind::ProduceFailed { at, msg, error, .. } if *msg == id => {
            (Tone::Loss, format!("{at} gave it up: {error}"))
        }
        TraceKind::Consume {
            at,
            tp,
            offset,
            msg,
            applied,
            owned,
        } if *msg == id => (
            if !applied || !owned {
                Tone::Duplicate
            } else {
                Tone::Normal
            },
            format!(
                "consumed by {at} from {tp} offset {offset}{}",
                if !applied {
                    ": discarded as a repeat"
                } else if !owned {
                    ": after its partition was revoked (will be processed again)"
                } else {
                    ""
                }
            ),
        ),
        TraceKind::TxCommit {
            at,
            tx,
            outbox_row,
            msg: Some(m),
            ..
        } if *m == id => (
            Tone::Normal,
            match outbox_row {
                Some(r) => format!("{at} committed tx{tx}: written to the OUTBOX as row {r}"),
                None => format!("{at} committed tx{tx}"),
            },
        ),
        TraceKind::RelayRewind {
            at, msg, republish, ..
        } if *msg == id => (
            Tone::Retry,
            format!(
                "{at}'s publish of it failed: it publishes {republish} record(s) again from here"
            ),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::network::{Direction, LinkFaults};
    use msgsim::{Command, Scenario, Simulation};

    /// order-events, seed 42, broker → accounting losing half its packets and duplicating a
    /// third: the lines of one message that was lost, redelivered and duplicated.
    fn lossy_run() -> Simulation {
        let s = Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
        let mut sim = Simulation::new(s, 42).unwrap();
        sim.apply(Command::SetLink {
            a: "broker".into(),
            b: "accounting".into(),
            direction: Direction::AToB,
            faults: LinkFaults {
                latency_ms: 40,
                loss_percent: 50.0,
                duplicate_percent: 30.0,
                ..LinkFaults::default()
            },
        })
        .unwrap();
        sim.run_until(SimTime::from_ms(3_000), 1_000_000);
        sim
    }

    #[test]
    fn the_life_of_a_lost_and_redelivered_message() {
        let sim = lossy_run();
        // m5: its delivery to accounting is lost twice; the broker redelivers after each 1 s ack
        // timeout and the third delivery is processed. Its other subscribers got it at once.
        let (lines, more) = life_of(sim.trace().events(), MessageId(5));
        let got: Vec<String> = lines.iter().map(LifeLine::line).collect();
        assert_eq!(more, 0);
        assert_eq!(
            got,
            [
                "0.500 s  publish sent order#0 → broker",
                "0.624 s  enqueued on order-events/kitchen (depth 1)",
                "0.624 s  enqueued on order-events/accounting (depth 1)",
                "0.624 s  enqueued on order-events/notification (depth 1)",
                "0.624 s  publisher confirm sent broker → order#0",
                "0.624 s  delivery sent broker → kitchen#0",
                "0.624 s  delivery sent broker → accounting#0",
                "0.624 s  delivery sent broker → notification#0",
                "0.644 s  delivery dropped on broker → accounting#0: lost by the network",
                "0.772 s  processed by notification#0 (delivery attempt 1): effect applied",
                "0.772 s  ack sent notification#0 → broker",
                "0.872 s  ack reached the broker: removed from order-events/notification",
                "0.924 s  processed by kitchen#0 (delivery attempt 1): effect applied",
                "0.924 s  ack sent kitchen#0 → broker",
                "1.019 s  ack reached the broker: removed from order-events/kitchen",
                "1.624 s  put back on order-events/accounting for redelivery (attempt 2): no ack within the ack timeout",
                "1.624 s  delivery sent broker → accounting#0, attempt 2",
                "1.644 s  delivery dropped on broker → accounting#0: lost by the network",
                "2.624 s  put back on order-events/accounting for redelivery (attempt 3): no ack within the ack timeout",
                "2.624 s  delivery sent broker → accounting#0, attempt 3",
                "2.724 s  processed by accounting#0 (delivery attempt 3): effect applied",
                "2.724 s  ack sent accounting#0 → broker",
                "2.832 s  ack reached the broker: removed from order-events/accounting",
            ]
        );
        let tones: Vec<&str> = lines.iter().map(|l| l.tone.class()).collect();
        assert_eq!(tones[8], "loss");
        assert_eq!(tones[15], "retry");
        // A message that never existed has no life.
        assert_eq!(
            life_of(sim.trace().events(), MessageId(999_999)),
            (vec![], 0)
        );
    }
}
