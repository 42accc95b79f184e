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
                " (partition revoked: not committed)"
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
