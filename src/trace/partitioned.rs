//! One-line `Display` of the partitioned-topic trace events (produce, append, fetch, commit,
//! group membership).

use super::{CommitVerdict, TraceKind};
use std::fmt::{self, Write as _};

fn key(k: &Option<String>) -> &str {
    k.as_deref().unwrap_or("-")
}

fn list(ps: &[u32]) -> String {
    let mut s = String::from("[");
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{p}");
    }
    s.push(']');
    s
}

/// Writes the event's line after `t=... `. Events of other kinds write nothing (they have their
/// own arm in `TraceEvent`'s `Display`).
pub(super) fn fmt(what: &TraceKind, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match what {
        TraceKind::Produce {
            at,
            tp,
            msg,
            key: k,
            sequence,
            attempt,
        } => {
            write!(f, "{at} produce {msg} to {tp} key={}", key(k))?;
            if let Some(s) = sequence {
                write!(f, " seq={s}")?;
            }
            write!(f, " attempt={attempt}")
        }
        TraceKind::Append {
            broker,
            tp,
            msg,
            offset,
            key: k,
        } => write!(
            f,
            "{broker} {tp} append {msg} offset={offset} key={}",
            key(k)
        ),
        TraceKind::DuplicateAppend {
            broker,
            tp,
            msg,
            offset,
        } => write!(
            f,
            "{broker} {tp} duplicate {msg} discarded (idempotence), already at offset={offset}"
        ),
        TraceKind::AppendRejected {
            broker,
            tp,
            msg,
            error,
        } => write!(f, "{broker} {tp} reject {msg}: {error}"),
        TraceKind::ProduceAcked {
            at,
            tp,
            msg,
            offset,
            duplicate,
        } => write!(
            f,
            "{at} acked {msg} {tp} offset={offset}{}",
            if *duplicate { " (duplicate)" } else { "" }
        ),
        TraceKind::ProduceRetry {
            at,
            tp,
            msg,
            attempt,
            error,
        } => write!(
            f,
            "{at} retry {msg} to {tp} attempt={attempt} after: {error}"
        ),
        TraceKind::ProduceFailed { at, tp, msg, error } => {
            write!(f, "{at} give up {msg} to {tp}: {error}")
        }
        TraceKind::ProducerEpochBump {
            at,
            producer_id,
            epoch,
        } => write!(f, "{at} producer {producer_id} bumps its epoch to {epoch}"),
        TraceKind::LateProduceResponse { at, msg } => {
            write!(f, "{at} late produce response for {msg} ignored")
        }
        TraceKind::Fetch {
            at,
            group,
            tp,
            first,
            last,
        } => write!(
            f,
            "{at} group {group} fetch {tp} offsets {first}..={last} ({} records)",
            last.saturating_sub(*first).saturating_add(1)
        ),
        TraceKind::Consume {
            at,
            tp,
            offset,
            msg,
            applied,
            owned,
        } => write!(
            f,
            "{at} process {tp}@{offset} {msg} {}{}",
            if *applied {
                "effect applied"
            } else {
                "duplicate discarded"
            },
            if *owned {
                ""
            } else {
                " (partition revoked meanwhile)"
            }
        ),
        TraceKind::RecordsDropped {
            at,
            tp,
            offsets,
            reason,
        } => {
            write!(f, "{at} drop {tp} offsets [")?;
            for (i, o) in offsets.iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write!(f, "{o}")?;
            }
            write!(f, "] unprocessed: {reason}")
        }
        TraceKind::OffsetCommit {
            broker,
            group,
            member,
            generation,
            tp,
            offset,
            verdict,
        } => {
            write!(
                f,
                "{broker} group {group} commit {tp} offset={offset} by {member} generation={generation} "
            )?;
            match verdict {
                CommitVerdict::Accepted => write!(f, "accepted"),
                CommitVerdict::NoAdvance { committed } => {
                    write!(f, "no-advance (committed {committed})")
                }
                CommitVerdict::Rejected { error } => write!(f, "rejected: {error}"),
            }
        }
        TraceKind::CommitFailed {
            at,
            group,
            error,
            queued,
        } => write!(
            f,
            "{at} group {group} commit failed, {}: {error}",
            if *queued {
                "queued for retry"
            } else {
                "given up"
            }
        ),
        TraceKind::Join {
            broker,
            group,
            member,
            rebalance_started,
        } => write!(
            f,
            "{broker} group {group} join {member}{}",
            if *rebalance_started {
                " (rebalance started)"
            } else {
                ""
            }
        ),
        TraceKind::MemberRemoved {
            broker,
            group,
            member,
            reason,
        } => write!(f, "{broker} group {group} remove {member}: {reason}"),
        TraceKind::Rebalance {
            broker,
            group,
            topic,
            generation,
            assignment,
        } => {
            write!(
                f,
                "{broker} group {group} rebalance generation={generation} {topic}:"
            )?;
            if assignment.is_empty() {
                write!(f, " no members")?;
            }
            for (m, ps) in assignment {
                write!(f, " {m}={}", list(ps))?;
            }
            Ok(())
        }
        TraceKind::Revoke {
            at,
            group,
            topic,
            partitions,
        } => write!(f, "{at} group {group} revoke {topic} {}", list(partitions)),
        TraceKind::Assign {
            at,
            group,
            topic,
            generation,
            partitions,
        } => {
            write!(
                f,
                "{at} group {group} assign generation={generation} {topic} ["
            )?;
            for (i, (p, c)) in partitions.iter().enumerate() {
                if i > 0 {
                    f.write_char(' ')?;
                }
                match c {
                    Some(c) => write!(f, "{p}@{c}")?,
                    None => write!(f, "{p}@-")?,
                }
            }
            f.write_char(']')
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Endpoint, TraceEvent};
    use super::*;
    use crate::message::MessageId;
    use crate::time::SimTime;
    use std::sync::Arc;

    fn line(what: TraceKind) -> String {
        TraceEvent {
            seq: 0,
            time: SimTime(1_500),
            what,
        }
        .to_string()
    }

    fn ep(node: &str, broker: bool) -> Endpoint {
        Endpoint {
            node: Arc::from(node),
            instance: 1,
            broker,
        }
    }

    #[test]
    fn lines_not_covered_by_the_engine_tests() {
        let tp: Arc<str> = Arc::from("orders-2");
        assert_eq!(
            line(TraceKind::ProduceFailed {
                at: ep("order", false),
                tp: Arc::clone(&tp),
                msg: MessageId(7),
                error: "request timed out (TimeoutException)".into(),
            }),
            "t=1.500ms order#1 give up m7 to orders-2: request timed out (TimeoutException)"
        );
        assert_eq!(
            line(TraceKind::ProducerEpochBump {
                at: ep("order", false),
                producer_id: 3,
                epoch: 1,
            }),
            "t=1.500ms order#1 producer 3 bumps its epoch to 1"
        );
        assert_eq!(
            line(TraceKind::LateProduceResponse {
                at: ep("order", false),
                msg: MessageId(7),
            }),
            "t=1.500ms order#1 late produce response for m7 ignored"
        );
        assert_eq!(
            line(TraceKind::RecordsDropped {
                at: ep("mailer", false),
                tp: Arc::clone(&tp),
                offsets: vec![4, 5],
                reason: "their commit failed (at-most-once)".into(),
            }),
            "t=1.500ms mailer#1 drop orders-2 offsets [4,5] unprocessed: their commit failed (at-most-once)"
        );
        assert_eq!(
            line(TraceKind::OffsetCommit {
                broker: ep("broker", true),
                group: Arc::from("mailer"),
                member: Arc::from("mailer#0"),
                generation: 2,
                tp: Arc::clone(&tp),
                offset: 10,
                verdict: CommitVerdict::Rejected {
                    error: "group `mailer`: rebalance in progress (REBALANCE_IN_PROGRESS)".into()
                },
            }),
            "t=1.500ms broker group mailer commit orders-2 offset=10 by mailer#0 generation=2 rejected: group `mailer`: rebalance in progress (REBALANCE_IN_PROGRESS)"
        );
        assert_eq!(
            line(TraceKind::Rebalance {
                broker: ep("broker", true),
                group: Arc::from("mailer"),
                topic: Arc::from("orders"),
                generation: 4,
                assignment: vec![],
            }),
            "t=1.500ms broker group mailer rebalance generation=4 orders: no members"
        );
        assert_eq!(
            line(TraceKind::Consume {
                at: ep("mailer", false),
                tp,
                offset: 3,
                msg: MessageId(9),
                applied: false,
                owned: false,
            }),
            "t=1.500ms mailer#1 process orders-2@3 m9 duplicate discarded (partition revoked meanwhile)"
        );
    }
}
