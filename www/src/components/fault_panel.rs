//! The fault panel: pick a link (or click it) and edit its faults, or pick a node instance and
//! crash / restart / pause / resume it. Every change is an engine `Command` applied at the current
//! virtual time; the command log lists them.

use super::cls;
use super::input::SyncedInput;
use crate::format::{format_field, format_secs, LinkField};
use crate::state::{Action, LinkOp, NodeOp};
use msgsim::network::Direction;
use msgsim::outbox::CrashPoint;
use msgsim::scenario::{ChannelKind, NodeKind, Scenario};
use msgsim::snapshot::InstanceStatus;
use msgsim::Command;
use msgsim::{RecordedCommand, Snapshot};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Properties of [`FaultPanel`].
#[derive(Properties, PartialEq)]
pub struct FaultPanelProps {
    /// The scenario (names).
    pub scenario: Rc<Scenario>,
    /// Current faults and instance states.
    pub snapshot: Rc<Snapshot>,
    /// Picked link.
    pub link: usize,
    /// Picked direction.
    pub direction: Direction,
    /// Picked node.
    pub node: usize,
    /// Picked instance.
    pub instance: u32,
    /// A clamp note.
    pub note: Option<String>,
    /// An error.
    pub error: Option<String>,
    /// Applied commands.
    pub commands: Rc<Vec<RecordedCommand>>,
    /// Sends actions.
    pub dispatch: Callback<Action>,
}

fn select_value(e: &Event) -> String {
    let sel: HtmlSelectElement = e.target_unchecked_into();
    sel.value()
}

/// The failpoints `arm_crash` offers, with what each means for a service and for a relay.
pub const CRASH_POINTS: [(CrashPoint, &str); 3] = [
    (
        CrashPoint::BeforeCommit,
        "before_commit: right before a transaction commits (it rolls back)",
    ),
    (
        CrashPoint::AfterCommit,
        "after_commit: right after a commit, before the publish or the answer",
    ),
    (
        CrashPoint::AfterPublish,
        "after_publish: after a publish (relay: after the broker confirmed a batch, before mark/save)",
    ),
];

/// A labelled `<select>` of `(value, text)` options; `on` gets the picked value. Out of line:
/// one copy for the six pickers of the panel.
#[inline(never)]
fn picker(
    label: &'static str,
    testid: &'static str,
    options: Vec<(String, String)>,
    selected: &str,
    on: Callback<String>,
) -> Html {
    let onchange = Callback::from(move |e: Event| on.emit(select_value(&e)));
    html! {
        <label class="field">
            <span class="label">{ label }</span>
            <select data-testid={testid} {onchange}>
                { for options.into_iter().map(|(v, t)| {
                    let sel = v == selected;
                    html! { <option key={v.clone()} value={v} selected={sel}>{ t }</option> }
                }) }
            </select>
        </label>
    }
}

/// A small button that sends `action` (one copy for every button of the panel).
#[inline(never)]
fn button(
    testid: &'static str,
    text: &'static str,
    title: &'static str,
    disabled: bool,
    d: &Callback<Action>,
    action: Action,
) -> Html {
    let d = d.clone();
    let onclick = Callback::from(move |_: MouseEvent| d.emit(action.clone()));
    html! {
        <button class="btn small" data-testid={testid} title={title} {disabled} {onclick}>{ text }</button>
    }
}

/// `(index, text)` options.
fn numbered<'a>(items: impl Iterator<Item = String> + 'a) -> Vec<(String, String)> {
    items.enumerate().map(|(i, t)| (i.to_string(), t)).collect()
}

/// The fault panel.
#[function_component(FaultPanel)]
pub fn fault_panel(p: &FaultPanelProps) -> Html {
    let d = &p.dispatch;
    // Panel-local choices: the failpoint, the channel and how many publishes to reject.
    let point = use_state(|| 2usize);
    let channel = use_state(|| 0usize);
    let count = use_state(|| 1u32);
    let link = p.snapshot.links.get(p.link);
    let shown = link.map(|l| match p.direction {
        Direction::BToA => l.b_to_a.clone(),
        _ => l.a_to_b.clone(),
    });
    let field = |field: LinkField, testid: &'static str, step: &'static str| {
        let value = shown
            .as_ref()
            .map(|f| format_field(field.get(f)))
            .unwrap_or_default();
        let (lo, hi) = field.range();
        let d = d.clone();
        let onchange = Callback::from(move |(raw, input): (String, HtmlInputElement)| {
            // Show the value that was actually applied (clamped), even when the model's value
            // does not change.
            if let Ok(c) = crate::format::clamp_field(field, &raw) {
                input.set_value(&format_field(c.value));
            }
            d.emit(Action::SetLinkField { field, raw });
        });
        html! {
            <label class="field num">
                <span class="label">{ format!("{} ({})", field.label(), field.unit()) }</span>
                <SyncedInput testid={testid} input_type="number" inputmode="decimal"
                             min={format_field(lo)} max={format_field(hi)} step={step}
                             value={value} {onchange} disabled={link.is_none()} />
            </label>
        }
    };
    let link_button =
        |op: LinkOp, testid: &'static str, text: &'static str, title: &'static str| {
            button(testid, text, title, link.is_none(), d, Action::Link(op))
        };
    let node = p.snapshot.nodes.get(p.node);
    let status = node
        .and_then(|n| n.instances.get(p.instance as usize))
        .map(|i| i.status);
    let node_button =
        |op: NodeOp, testid: &'static str, text: &'static str, title: &'static str| {
            button(testid, text, title, node.is_none(), d, Action::Node(op))
        };
    let on_link = {
        let d = d.clone();
        Callback::from(move |v: String| {
            if let Ok(i) = v.parse() {
                d.emit(Action::SelectLink(i));
            }
        })
    };
    let on_direction = {
        let d = d.clone();
        Callback::from(move |v: String| {
            let dir = match v.as_str() {
                "a_to_b" => Direction::AToB,
                "b_to_a" => Direction::BToA,
                _ => Direction::Both,
            };
            d.emit(Action::SelectDirection(dir));
        })
    };
    let on_node = {
        let d = d.clone();
        Callback::from(move |v: String| {
            if let Ok(i) = v.parse() {
                d.emit(Action::SelectNode(i));
            }
        })
    };
    let on_instance = {
        let d = d.clone();
        Callback::from(move |v: String| {
            if let Ok(i) = v.parse() {
                d.emit(Action::SelectInstance(i));
            }
        })
    };
    let (a, b) = link.map(|l| (l.a.clone(), l.b.clone())).unwrap_or_default();
    let spec = p.scenario.nodes.get(p.node);
    let name = spec.map(|n| n.name.clone()).unwrap_or_default();
    let is_relay = spec.is_some_and(|n| n.kind == NodeKind::Relay);
    let has_db = is_relay
        || p.scenario
            .transactional
            .databases
            .iter()
            .any(|db| db.service == name);
    let on_point = {
        let point = point.clone();
        Callback::from(move |v: String| point.set(v.parse().unwrap_or(0)))
    };
    let brokered: Vec<&str> = p
        .scenario
        .channels
        .iter()
        .filter(|c| c.kind != ChannelKind::Direct)
        .map(|c| c.name.as_str())
        .collect();
    let ch = brokered
        .get(*channel)
        .or(brokered.first())
        .map(|c| c.to_string());
    let on_channel = {
        let channel = channel.clone();
        Callback::from(move |v: String| channel.set(v.parse().unwrap_or(0)))
    };
    let on_count = {
        let count = count.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let v = input
                .value()
                .trim()
                .parse::<u32>()
                .unwrap_or(1)
                .clamp(1, 1_000);
            input.set_value(&v.to_string());
            count.set(v);
        })
    };
    let armed: Vec<String> = p
        .snapshot
        .transactional
        .armed
        .iter()
        .map(|a| format!("{}#{} at {}", a.node, a.instance, a.point.as_str()))
        .collect();
    let rejections: Vec<String> = p
        .snapshot
        .transactional
        .channel_logs
        .iter()
        .filter(|c| c.rejections_armed > 0)
        .map(|c| format!("{} ×{}", c.channel, c.rejections_armed))
        .collect();
    let dir_value = match p.direction {
        Direction::Both => "both",
        Direction::AToB => "a_to_b",
        Direction::BToA => "b_to_a",
    };
    let status_text = match status {
        Some(InstanceStatus::Up) => "up",
        Some(InstanceStatus::Paused) => "paused",
        Some(InstanceStatus::Crashed) => "crashed",
        None => "",
    };
    html! {
        <section class="panel fault-panel" data-testid="fault-panel" aria-label="Faults">
            <h2>{ "Faults" }</h2>
            <p class="hint">{ "Click a link or a node on the canvas, or pick one here. Changes apply at the current virtual time." }</p>
            <fieldset class="group">
                <legend>{ "Link" }</legend>
                <div class="row">
                    { picker("Link", "fault-link", numbered(p.scenario.links.iter().map(|l| format!("{} ↔ {}", l.a, l.b))), &p.link.to_string(), on_link) }
                    { picker("Direction", "fault-direction", vec![("both".into(), "both directions".into()),
                        ("a_to_b".into(), format!("{a} → {b}")), ("b_to_a".into(), format!("{b} → {a}"))], dir_value, on_direction) }
                </div>
                <div class="row fields">
                    { field(LinkField::Latency, "fault-latency", "1") }
                    { field(LinkField::Jitter, "fault-jitter", "1") }
                    { field(LinkField::Loss, "fault-loss", "any") }
                    { field(LinkField::Duplicate, "fault-duplicate", "any") }
                </div>
                <div class="row buttons">
                    { link_button(LinkOp::Partition, "fault-partition", "✂ Partition", "Drop every message both ways") }
                    { link_button(LinkOp::PartitionOneway, "fault-partition-oneway", "✂ One way", "Drop messages in the picked direction only (a → b for both)") }
                    { link_button(LinkOp::Repair, "fault-repair", "Repair", "Heal the partition") }
                    { link_button(LinkOp::RepairOneway, "fault-repair-oneway", "Repair one way", "Heal the picked direction only (a → b for both); the other stays as it is") }
                    { link_button(LinkOp::Hold, "fault-hold", "❚❚ Hold", "Keep messages on the link until released") }
                    { link_button(LinkOp::Release, "fault-release", "Release", "Deliver held messages (fresh latency each)") }
                </div>
            </fieldset>
            <fieldset class="group">
                <legend>{ "Node" }</legend>
                <div class="row">
                    { picker("Node", "fault-node", numbered(p.scenario.nodes.iter().map(|n| n.name.clone())), &p.node.to_string(), on_node) }
                    { picker("Instance", "fault-instance", numbered(node.into_iter().flat_map(|n| n.instances.iter()).map(|i| format!("#{}", i.index))),
                        &p.instance.to_string(), on_instance) }
                    <span class={cls("status-pill", &[(true, status_text)])} data-testid="instance-status">{ status_text }</span>
                </div>
                <div class="row buttons">
                    { node_button(NodeOp::Crash, "fault-crash", "✕ Crash", "Lose in-memory state; connections reset") }
                    { node_button(NodeOp::Restart, "fault-restart", "Restart", "Start a crashed instance with empty memory") }
                    { node_button(NodeOp::Pause, "fault-pause", "❚❚ Pause", "Freeze (SIGSTOP): buffers what arrives") }
                    { node_button(NodeOp::Resume, "fault-resume", "Resume", "Unfreeze: what it missed happens now") }
                    if is_relay {
                        { button("fault-stop-relay", "■ Stop relay",
                            "Stop the relay gracefully: it saves its position (log tailing) or marks what was confirmed (polling); Restart starts it again",
                            false, d, Action::Apply(Command::StopRelay { node: name.clone() })) }
                    }
                </div>
                if has_db {
                    <div class="row">
                        { picker("Failpoint", "fault-crash-point", numbered(CRASH_POINTS.iter().map(|(_, w)| w.to_string())), &point.to_string(), on_point) }
                        { button("fault-arm-crash", "⚑ Arm crash", "Arm a one-shot crash: the instance crashes the next time it reaches this point",
                            false, d, Action::Apply(Command::ArmCrash { node: name.clone(), instance: p.instance, point: CRASH_POINTS[(*point).min(2)].0 })) }
                    </div>
                }
                if !armed.is_empty() {
                    <p class="hint" data-testid="armed">{ format!("Armed: {}", armed.join(", ")) }</p>
                }
            </fieldset>
            if let Some(ch) = ch {
                <fieldset class="group">
                    <legend>{ "Channel" }</legend>
                    <div class="row">
                        { picker("Channel", "fault-channel", numbered(brokered.iter().map(|c| c.to_string())),
                            &brokered.iter().position(|c| *c == ch).unwrap_or(0).to_string(), on_channel) }
                        <label class="field num count">
                            <span class="label">{ "Publishes" }</span>
                            <input data-testid="fault-reject-count" type="number" min="1" max="1000" step="1"
                                   value={count.to_string()} onchange={on_count} />
                        </label>
                        { button("fault-reject", "⊘ Reject next publish",
                            "The broker nacks the next publishes to this channel: nothing is appended, the producer learns it at once and retries",
                            false, d, Action::Apply(Command::RejectNextPublish { channel: ch.clone(), count: *count })) }
                    </div>
                    if !rejections.is_empty() {
                        <p class="hint" data-testid="rejections-armed">{ format!("Rejections armed: {}", rejections.join(", ")) }</p>
                    }
                </fieldset>
            }
            if let Some(n) = &p.note {
                <p class="note" data-testid="fault-note" role="status">{ n }</p>
            }
            if let Some(e) = &p.error {
                <p class="inline-error" data-testid="fault-error" role="alert">{ e }</p>
            }
            <details class="command-log" open={true}>
                <summary>{ format!("Applied commands ({})", p.commands.len()) }</summary>
                if p.commands.is_empty() {
                    <p class="hint">{ "None yet." }</p>
                } else {
                    <ol data-testid="command-log">
                        { for p.commands.iter().rev().take(100).map(|c| html! {
                            <li><span class="time">{ format_secs(c.at) }</span>{ " " }{ c.command.describe() }</li>
                        }) }
                    </ol>
                }
            </details>
        </section>
    }
}
