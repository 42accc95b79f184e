//! Synchronous calls: one card per client proxy with its circuit breaker (state ring, rates,
//! state timeline over virtual time), bulkhead, rate limiter and call counters; then the
//! service registries with each client's cached view and the routers' endpoint lists.

use msgsim::resilience::circuit_breaker::CircuitBreakerState as S;
use msgsim::sync::{BreakerView, CacheView, ProxyView, RegistryView, RouterView};
use msgsim::{SimTime, Snapshot};
use std::rc::Rc;
use yew::prelude::*;

/// CSS class of a breaker state (its colour).
pub fn state_class(s: S) -> &'static str {
    match s {
        S::Closed => "st-closed",
        S::Open => "st-open",
        S::HalfOpen => "st-half",
        S::Disabled | S::ForcedOpen | S::MetricsOnly => "st-grey",
    }
}

/// Pieces of the state timeline: `(from_us, to_us, state)`, covering `0..now_us`.
pub fn timeline(b: &BreakerView, now_us: u64) -> Vec<(u64, u64, S)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut state = b.transitions.first().map_or(b.state, |t| t.from);
    for t in &b.transitions {
        let at = t.at_us.min(now_us);
        if at > start {
            out.push((start, at, state));
        }
        start = at;
        state = t.to;
    }
    if now_us > start {
        out.push((start, now_us, state));
    }
    out
}

fn rate(r: f32) -> String {
    if r < 0.0 {
        "–".to_string()
    } else {
        format!("{r:.0} %")
    }
}

fn secs(t: SimTime) -> String {
    format!("{:.2} s", t.as_ms_f64() / 1_000.0)
}

#[inline(never)]
fn kv(label: &str, value: String) -> Html {
    html! { <span class="kv"><span class="k">{ label }</span><b>{ value }</b></span> }
}

fn breaker_html(p: &ProxyView, b: &BreakerView, now: SimTime) -> Html {
    let id = format!("breaker-{}-{}", p.client, p.service);
    let now_us = now.0.max(1);
    const W: f64 = 260.0;
    let segs = timeline(b, now_us).into_iter().map(|(a, z, s)| {
        let x = a as f64 / now_us as f64 * W;
        let w = ((z - a) as f64 / now_us as f64 * W).max(0.5);
        html! { <rect class={state_class(s)} x={format!("{x:.1}")} y="2" width={format!("{w:.1}")} height="10">
            <title>{ format!("{} from {}", s, secs(SimTime(a))) }</title></rect> }
    });
    let ticks = b.transitions.iter().map(|t| {
        let x = t.at_us.min(now_us) as f64 / now_us as f64 * W;
        html! { <line class="tick" x1={format!("{x:.1}")} x2={format!("{x:.1}")} y1="0" y2="14">
            <title>{ format!("{} → {} at {} (failure rate {}, slow {})", t.from, t.to, secs(SimTime(t.at_us)), rate(t.failure_rate), rate(t.slow_call_rate)) }</title></line> }
    });
    let m = &b.metrics;
    html! {
        <div class="breaker">
            <span class={format!("ring {}", state_class(b.state))} data-testid={id} data-state={b.state.name()}>{ b.state.name() }</span>
            <span class="rates">
                { kv("failure rate", rate(m.failure_rate)) }
                { kv("slow calls", rate(m.slow_call_rate)) }
                { kv("window", format!("{} ({} failed)", m.number_of_buffered_calls, m.number_of_failed_calls)) }
                { kv("not permitted", m.number_of_not_permitted_calls.to_string()) }
            </span>
            <svg class="timeline" viewBox="0 0 260 14" preserveAspectRatio="none" role="img"
                 aria-label="breaker state over virtual time">
                { for segs }{ for ticks }
            </svg>
            <span class="axis"><span>{ "0 s" }</span><span>{ format!("{} transitions", b.transitions_total) }</span><span>{ secs(now) }</span></span>
        </div>
    }
}

fn proxy_card(p: &ProxyView, now: SimTime) -> Html {
    let m = &p.metrics;
    let bulk = p.bulkhead.as_ref().map(|b| {
        kv(
            "bulkhead free",
            format!(
                "{}/{} · {} waiting",
                b.available_concurrent_calls, b.max_concurrent_calls, b.waiting_calls
            ),
        )
    });
    let lim = p.rate_limiter.as_ref().map(|l| {
        kv(
            "permits",
            format!(
                "{}/{} per {} ms",
                l.available_permissions,
                l.limit_for_period,
                l.limit_refresh_period_us / 1_000
            ),
        )
    });
    html! {
        <div class="card proxy" data-testid={format!("proxy-{}-{}", p.client, p.service)}>
            <h3>{ format!("{}#{} → {}", p.client, p.instance, p.service) }
                <span class="sub">{ format!(" {} discovery{}", p.discovery, if p.fallback { " · fallback" } else { "" }) }</span></h3>
            { p.breaker.as_ref().map(|b| breaker_html(p, b, now)).unwrap_or_default() }
            <div class="kvs">
                { bulk.unwrap_or_default() }{ lim.unwrap_or_default() }
                { kv("calls", m.calls.to_string()) }
                { kv("ok", m.successes.to_string()) }
                { kv("failed", m.failures.to_string()) }
                { kv("timeouts", m.timeouts.to_string()) }
                { kv("retries", (m.retries + m.app_retries).to_string()) }
                { kv("rejected breaker/bulkhead/limiter", format!("{}/{}/{}", m.rejected_by_breaker, m.rejected_by_bulkhead, m.rejected_by_limiter)) }
                { kv("fallbacks", m.fallbacks.to_string()) }
                { kv("upstream/call", format!("{:.2}", m.upstream_per_call())) }
                { kv("in flight", p.outstanding_calls.to_string()) }
            </div>
            { p.cache.as_ref().map(|c| cache_html("cached view", c, now)).unwrap_or_default() }
        </div>
    }
}

fn cache_html(title: &str, c: &CacheView, now: SimTime) -> Html {
    let exp = c.expires_at.map(|e| {
        if e <= now {
            " · expired".to_string()
        } else {
            format!(" · until {}", secs(e))
        }
    });
    html! {
        <div class="cache">
            <span class="k">{ title }{ c.fetched_at.map(|f| format!(" (fetched {})", secs(f))).unwrap_or_default() }{ exp.unwrap_or_default() }
                { if c.refreshing { " · refreshing" } else { "" } }</span>
            <span class="chips">
                { for c.instances.iter().map(|i| html! { <span class="chip">{ format!("#{} {}:{}", i.instance, i.host, i.port) }</span> }) }
                { if c.instances.is_empty() { html! { <span class="muted">{ "empty" }</span> } } else { html! {} } }
            </span>
        </div>
    }
}

fn registry_html(r: &RegistryView, now: SimTime) -> Html {
    use msgsim::snapshot::InstanceStatus;
    html! {
        <div class="card registry" data-testid={format!("registry-{}", r.node)}>
            <h3>{ format!("registry {}", r.node) }</h3>
            <table class="vt">
                <thead><tr><th>{ "service" }</th><th>{ "instance" }</th><th>{ "host:port" }</th><th>{ "registered" }</th><th>{ "renewed" }</th><th>{ "expires" }</th><th>{ "actual" }</th></tr></thead>
                <tbody>
                { for r.entries.iter().map(|e| {
                    let up = e.actual == InstanceStatus::Up;
                    let stale = !up && e.expires_at > now;
                    html! {
                        <tr class={if stale { "stale" } else { "" }} data-testid="registry-entry">
                            <td>{ &e.service }</td><td>{ format!("#{}", e.info.instance) }</td>
                            <td>{ format!("{}:{}", e.info.host, e.info.port) }</td>
                            <td>{ secs(e.registered_at) }</td><td>{ secs(e.renewed_at) }</td><td>{ secs(e.expires_at) }</td>
                            <td>{ format!("{:?}", e.actual).to_lowercase() }{ if stale { " · stale until TTL" } else { "" } }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        </div>
    }
}

fn router_html(r: &RouterView, now: SimTime) -> Html {
    html! {
        <div class="card router">
            <h3>{ format!("router {} → {}", r.node, r.service) }<span class="sub">{ format!(" {} routed · {} pending", r.routed, r.pending) }</span></h3>
            { cache_html("endpoints", &r.endpoints, now) }
        </div>
    }
}

/// Properties of [`SyncPanel`].
#[derive(Properties, PartialEq)]
pub struct SyncProps {
    /// Proxies, registries and routers come from here.
    pub snapshot: Rc<Snapshot>,
}

/// Client proxies, registries and routers (nothing when the run has none).
#[function_component(SyncPanel)]
pub fn sync_panel(props: &SyncProps) -> Html {
    let s = &props.snapshot;
    if s.proxies.is_empty() && s.registries.is_empty() && s.routers.is_empty() {
        return html! {};
    }
    html! {
        <section class="panel views sync-view" aria-label="Synchronous calls" data-testid="sync-view">
            <h2>{ "Synchronous calls" }<span class="sub">{ "client proxies: breaker, bulkhead, limiter, counters" }</span></h2>
            <div class="cards">{ for s.proxies.iter().map(|p| proxy_card(p, s.time)) }</div>
            if !s.registries.is_empty() || !s.routers.is_empty() {
                <h2>{ "Discovery" }<span class="sub">{ "registry entries vs reality; red rows: crashed but still registered" }</span></h2>
                <div class="cards">
                    { for s.registries.iter().map(|r| registry_html(r, s.time)) }
                    { for s.routers.iter().map(|r| router_html(r, s.time)) }
                </div>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgsim::Simulation;

    #[test]
    fn timeline_covers_the_run_and_ends_in_the_current_state() {
        let mut sim =
            Simulation::from_json(msgsim::scenarios::get("circuit-breaker").unwrap(), 11).unwrap();
        sim.run_until(SimTime::from_ms(9_000), u64::MAX);
        let snap = sim.snapshot();
        let b = snap
            .proxies
            .iter()
            .find_map(|p| p.breaker.as_ref())
            .expect("a breaker");
        let t = timeline(b, snap.time.0);
        assert_eq!(t.first().unwrap().0, 0);
        assert_eq!(t.last().unwrap().1, snap.time.0);
        assert_eq!(t.last().unwrap().2, b.state);
        assert!(t.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(!b.transitions.is_empty());
    }
}
