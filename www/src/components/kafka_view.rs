//! Partitioned topics: each partition as a lane of its last records, log start/end, and per
//! consumer group the owner, committed offset and lag of each partition, its generation and
//! its last rebalance.

use msgsim::snapshot::{ConsumerGroupView, PartitionView, PartitionedTopicView};
use yew::prelude::*;

/// Records drawn per lane (the newest).
pub const LANE_RECORDS: usize = 16;

fn ids(v: &[u32]) -> String {
    if v.is_empty() {
        "–".to_string()
    } else {
        v.iter()
            .map(|p| format!("p{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The distinctive end of a key for a narrow box (`customer-17` → `…17`); the title has it all.
pub fn short_key(k: Option<&str>) -> String {
    match k {
        None => String::new(),
        Some(k) if k.chars().count() <= 6 => k.to_string(),
        Some(k) => match k.rsplit_once(['-', '_', ':', '.']) {
            Some((_, tail)) if !tail.is_empty() && tail.chars().count() <= 6 => format!("…{tail}"),
            _ => format!("{}…", k.chars().take(5).collect::<String>()),
        },
    }
}

fn lane(p: &PartitionView, groups: &[ConsumerGroupView]) -> Html {
    let committed: Vec<(String, u64)> = groups
        .iter()
        .filter_map(|g| {
            g.partitions
                .iter()
                .find(|gp| gp.partition == p.partition)
                .and_then(|gp| gp.committed.map(|c| (g.group.clone(), c)))
        })
        .collect();
    html! {
        <div class="lane" data-testid={format!("partition-{}", p.partition)}>
            <span class="lane-h">{ format!("p{}", p.partition) }<span class="muted">{ format!(" [{}, {})", p.log_start_offset, p.log_end_offset) }</span></span>
            <span class="recs">
            { for committed.iter().filter(|(_, c)| p.records.get(p.records.len().saturating_sub(LANE_RECORDS)).is_some_and(|r| *c < r.offset)).map(|(g, c)| html! { <span class="rec end committed" title={format!("{g} committed {c}, before the records shown")}><b>{ format!("◂{c}") }</b></span> }) }
            { for p.records.iter().skip(p.records.len().saturating_sub(LANE_RECORDS)).map(|r| {
                let marks: Vec<&str> = committed.iter().filter(|(_, c)| *c == r.offset).map(|(g, _)| g.as_str()).collect();
                html! {
                    <span class={if marks.is_empty() { "rec" } else { "rec committed" }} data-msg-id={r.msg.to_string()}
                          title={format!("offset {} · {} · key {}{}", r.offset, r.msg, r.key.as_deref().unwrap_or("–"), if marks.is_empty() { String::new() } else { format!(" · next to read for {}", marks.join(", ")) })}>
                        <b>{ r.offset }</b><small>{ short_key(r.key.as_deref()) }</small>
                    </span>
                }
            }) }
            { for committed.iter().filter(|(_, c)| *c >= p.log_end_offset).map(|(g, _)| html! { <span class="rec end committed" title={format!("{g} is caught up")}><b>{ "end" }</b></span> }) }
            </span>
        </div>
    }
}

fn group_html(g: &ConsumerGroupView) -> Html {
    let last = g.rebalances.last().map(|r| {
        html! {
            <div class="rebalance">
                <span class="k">{ format!("last rebalance at {:.3} s, generation {} ({} in all): ", r.at.as_ms_f64() / 1e3, r.generation, g.rebalance_count) }</span>
                { for r.members.iter().map(|m| html! { <span class="chip">{ format!("{}{}: revoked {} · assigned {}", m.member_id, if m.joined { " (joined)" } else { "" }, ids(&m.revoked), ids(&m.assigned)) }</span> }) }
                { for r.departed.iter().map(|d| html! { <span class="chip no">{ format!("{} left ({}): revoked {}", d.member_id, d.reason, ids(&d.revoked)) }</span> }) }
            </div>
        }
    });
    html! {
        <div class="card group" data-testid={format!("group-{}", g.group)}>
            <h3>{ format!("group {} ", g.group) }<span class="sub">{ format!("{} · {} · generation {} · {} delivery · {} assignment", g.consumer, g.state, g.generation, g.delivery, g.assignment) }</span></h3>
            <table class="vt"><thead><tr><th>{ "partition" }</th><th>{ "owner" }</th><th>{ "committed" }</th><th>{ "lag" }</th></tr></thead>
            <tbody>{ for g.partitions.iter().map(|p| html! {
                <tr><td>{ format!("p{}", p.partition) }</td>
                    <td>{ p.owner.clone().map(|o| format!("{o}{}", p.owner_instance.map(|i| format!(" (#{i})")).unwrap_or_default())).unwrap_or_else(|| "–".into()) }</td>
                    <td>{ p.committed.map(|c| c.to_string()).unwrap_or_else(|| "–".into()) }</td>
                    <td class={if p.lag > 0 { "no" } else { "yes" }}>{ p.lag }</td></tr>
            }) }</tbody></table>
            { last.unwrap_or_default() }
        </div>
    }
}

/// One topic.
pub fn topic_html(t: &PartitionedTopicView) -> Html {
    html! {
        <div class="topic" data-testid={format!("topic-{}", t.name)}>
            <h3>{ format!("topic {} on {} ", t.name, t.broker) }<span class="sub">{ format!("{} appended · {} duplicates discarded · {} rejected", t.appended, t.duplicates_discarded, t.rejected) }</span></h3>
            <div class="lanes">{ for t.partitions.iter().map(|p| lane(p, &t.groups)) }</div>
            <div class="cards">{ for t.groups.iter().map(group_html) }</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::short_key;

    #[test]
    fn keys_keep_their_distinctive_end() {
        assert_eq!(short_key(Some("customer-17")), "…17");
        assert_eq!(short_key(Some("k1")), "k1");
        assert_eq!(short_key(Some("abcdefghij")), "abcde…");
        assert_eq!(short_key(None), "");
    }
}
