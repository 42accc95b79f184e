//! The network: sending a packet over a link direction, holding, releasing and ending transits.

use super::*;

impl Simulation {
    pub(super) fn send(&mut self, from: Ep, to: Ep, packet: Packet) {
        let Some(&(link, dir)) = self.link_of.get(&(from.node, to.node)) else {
            return; // validated: every sender/receiver pair is linked
        };
        self.metrics.sent += 1;
        let now = self.now;
        let d = &mut self.links[link as usize].dirs[dir as usize];
        d.metrics.sent += 1;
        let f = &d.faults;
        let overloaded = self.in_flight.len() >= bounds::MAX_IN_FLIGHT
            || self.queue.len() >= bounds::MAX_PENDING_EVENTS;
        let fate = if overloaded {
            Some(DropReason::Overflow)
        } else if f.partitioned {
            Some(DropReason::Partition)
        } else if d.rng.chance_percent(f.loss_percent) {
            Some(DropReason::Loss)
        } else {
            None
        };
        let latency = d.rng.jittered_ms(f.latency_ms, f.jitter_ms);
        let copy = fate.is_none() && d.rng.chance_percent(f.duplicate_percent);
        let copy_latency = if copy {
            d.rng.jittered_ms(f.latency_ms, f.jitter_ms)
        } else {
            0
        };
        let held = fate.is_none() && f.held;
        let arrive_at = match fate {
            Some(_) => now.plus_us(latency / 2),
            None => now.plus_us(latency),
        };
        let first = Transit {
            id: 0, // assigned at launch
            from,
            to,
            link,
            dir,
            packet,
            sent_at: now,
            arrive_at,
            duplicate: false,
            fate,
            held,
        };
        let second = copy.then(|| Transit {
            arrive_at: now.plus_us(copy_latency),
            duplicate: true,
            ..first.clone()
        });
        self.launch(first);
        if let Some(t) = second {
            self.metrics.duplicated += 1;
            self.links[link as usize].dirs[dir as usize]
                .metrics
                .duplicated += 1;
            self.launch(t);
        }
    }

    pub(super) fn launch(&mut self, mut t: Transit) {
        let id = self.next_transit;
        self.next_transit += 1;
        t.id = id;
        if self.trace.enabled() {
            let what = TraceKind::Send {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
                attempt: t.packet.attempt(),
                duplicate: t.duplicate,
            };
            self.trace.push(self.now, what);
        }
        if t.fate == Some(DropReason::Overflow) {
            // Never enters the wire.
            self.drop_transit(id, &t, DropReason::Overflow);
            return;
        }
        let (held, link, dir, arrive_at) = (t.held, t.link, t.dir, t.arrive_at);
        let slot = self.in_flight.insert(t);
        if held {
            self.links[link as usize].dirs[dir as usize]
                .held
                .push((id, slot));
        } else {
            self.schedule(arrive_at, Event::TransitEnd { transit: id, slot });
        }
    }

    pub(super) fn release_dir(&mut self, link: u32, dir: u8) {
        let held = std::mem::take(&mut self.links[link as usize].dirs[dir as usize].held);
        for (id, slot) in held {
            let d = &mut self.links[link as usize].dirs[dir as usize];
            let latency = d.rng.jittered_ms(d.faults.latency_ms, d.faults.jitter_ms);
            let now = self.now;
            if let Some(t) = self.in_flight.get_mut(slot, id) {
                t.held = false;
                t.sent_at = now;
                t.arrive_at = now.plus_us(latency);
                let at = t.arrive_at;
                self.schedule(at, Event::TransitEnd { transit: id, slot });
                if self.trace.enabled() {
                    self.trace.push(now, TraceKind::Release { transit: id });
                }
            }
        }
    }

    pub(super) fn drop_transit(&mut self, id: u64, t: &Transit, reason: DropReason) {
        self.metrics.dropped += 1;
        if matches!(t.packet, Packet::Direct { .. }) {
            self.metrics.direct_lost += 1; // brokerless: nobody will send it again
        }
        self.links[t.link as usize].dirs[t.dir as usize]
            .metrics
            .dropped += 1;
        if self.trace.enabled() {
            let what = TraceKind::Drop {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
                reason,
            };
            self.trace.push(self.now, what);
        }
    }

    pub(super) fn transit_end(&mut self, id: u64, slot: u32) {
        let Some(t) = self.in_flight.remove(slot, id) else {
            return;
        };
        if let Some(reason) = t.fate {
            self.drop_transit(id, &t, reason);
            return;
        }
        let inst = self.inst(t.to);
        if !inst.up {
            self.drop_transit(id, &t, DropReason::NodeDown);
            // An HTTP request to a crashed process is refused by its host (TCP reset).
            self.sync_on_node_down(&t);
            return;
        }
        self.metrics.delivered += 1;
        self.links[t.link as usize].dirs[t.dir as usize]
            .metrics
            .delivered += 1;
        if self.trace.enabled() {
            let what = TraceKind::Arrive {
                transit: id,
                from: self.endpoint(t.from),
                to: self.endpoint(t.to),
                packet: t.packet.kind(),
                msg: t.packet.msg().id,
            };
            self.trace.push(self.now, what);
        }
        if self.inst(t.to).paused {
            let to = t.to;
            self.defer(to, Deferred::Receive(t));
            return;
        }
        self.receive(t);
    }
}
