//! Chosen messages: a workload's `script` entries and the `publish` command (see
//! [`crate::scenario::script`]). Both send one-way messages through the ordinary publish paths;
//! what is theirs is the choice of id, key, payload and time, and the reservation of chosen ids
//! so the engine's numbering never hands one out twice.

use super::*;
use crate::scenario::{script, MessageTemplate};

/// The engine's numbering: the counter `next`, skipping every id in `reserved`. With nothing
/// reserved this is exactly `1, 2, 3…`.
pub(super) fn take_id(next: &mut u64, reserved: &BTreeSet<u64>) -> MessageId {
    while reserved.contains(next) {
        *next += 1;
    }
    let id = MessageId(*next);
    *next += 1;
    id
}

impl Simulation {
    /// The next engine-assigned message id: the counter, skipping every reserved (chosen) id.
    /// With nothing reserved this is exactly `1, 2, 3…`.
    pub(super) fn next_message_id(&mut self) -> MessageId {
        take_id(&mut self.next_msg, &self.reserved_ids)
    }

    /// At build time: checks the scripts against the schemas, reserves every id the scenario
    /// chooses and schedules its scripts.
    pub(super) fn script_init(&mut self) -> Result<(), ScenarioError> {
        let scenario = Arc::clone(&self.scenario);
        for (i, spec) in scenario.workloads.iter().enumerate() {
            let node = self.workloads[i].node;
            for (j, s) in spec.script.iter().enumerate() {
                self.check_chosen_schema(node, &s.message)
                    .map_err(|e| ScenarioError::Invalid {
                        field: format!("workloads[{i}].script[{j}].message.channel"),
                        message: e.to_string(),
                    })?;
            }
        }
        for (id, _) in script::chosen_ids(&scenario) {
            self.reserved_ids.insert(id);
        }
        for (w, spec) in scenario.workloads.iter().enumerate() {
            for (e, s) in spec.script.iter().enumerate() {
                self.schedule(
                    SimTime::from_ms(s.at_ms),
                    Event::Scripted {
                        workload: w as u32,
                        entry: e as u32,
                    },
                );
            }
        }
        Ok(())
    }

    /// The instance of workload `w`'s service that sends now: round robin over running ones.
    /// `None` (counted as `skipped` and traced) when none runs.
    pub(super) fn workload_instance(&mut self, w: u32) -> Option<Ep> {
        let node = self.workloads[w as usize].node;
        let count = self.nodes[node as usize].instances.len() as u32;
        let start = self.workloads[w as usize].next_instance;
        let chosen = (0..count).map(|k| (start + k) % count).find(|&i| {
            let inst = &self.nodes[node as usize].instances[i as usize];
            inst.up && !inst.paused
        });
        match chosen {
            None => {
                self.skip_send(node);
                None
            }
            Some(i) => {
                self.workloads[w as usize].next_instance = (i + 1) % count;
                Some(Ep { node, instance: i })
            }
        }
    }

    fn skip_send(&mut self, node: u32) {
        self.nodes[node as usize].metrics.skipped += 1;
        if self.trace.enabled() {
            let node = Arc::clone(&self.nodes[node as usize].name);
            self.trace.push(self.now, TraceKind::Skipped { node });
        }
    }

    /// A script entry's time has come.
    pub(super) fn scripted(&mut self, w: u32, entry: u32) {
        let scenario = Arc::clone(&self.scenario);
        let Some(s) = scenario.workloads[w as usize].script.get(entry as usize) else {
            return;
        };
        let Some(ep) = self.workload_instance(w) else {
            return;
        };
        let id = match s.id {
            Some(id) => MessageId(id),
            None => self.next_message_id(),
        };
        self.send_chosen(ep, id, &s.message);
    }

    /// Sends `m` as written from `ep` with id `id`.
    fn send_chosen(&mut self, ep: Ep, id: MessageId, m: &MessageTemplate) {
        let Some(channel) = self
            .scenario
            .channels
            .iter()
            .position(|c| c.name == m.channel)
        else {
            return; // validated
        };
        let channel = channel as u32;
        let msg = Arc::new(Message {
            id,
            kind: m.kind,
            type_name: m.type_name.as_str().into(),
            channel: m.channel.as_str().into(),
            headers: Headers {
                message_id: id,
                correlation_id: None,
                reply_to: None,
                key: m.key.as_deref().map(Arc::from),
                schema_id: None,
            },
            payload: m.payload.clone().into(),
            encoded: None,
        });
        let Some(msg) = self.schema_outgoing(ep, channel, msg) else {
            return;
        };
        self.metrics.published += 1;
        self.nodes[ep.node as usize].metrics.published += 1;
        self.publish(ep, channel, msg, 1);
    }

    /// The scenario-bound checks of `publish`: the route, and on a channel with schemas, that
    /// the node produces to it (so it has a version to write).
    pub(super) fn check_publish(
        &self,
        node: &str,
        instance: u32,
        m: &MessageTemplate,
    ) -> Result<Ep, CommandError> {
        let ep = self.instance_ref(node, instance)?;
        script::check_route(&self.scenario, "", node, m)
            .map_err(|e| CommandError::Invalid(e.to_string()))?;
        self.check_chosen_schema(ep.node, m)?;
        Ok(ep)
    }

    /// On a channel with schemas, a chosen message's sender must produce to it (so it has a
    /// version to write with).
    pub(super) fn check_chosen_schema(
        &self,
        node: u32,
        m: &MessageTemplate,
    ) -> Result<(), CommandError> {
        let ch = self
            .scenario
            .channels
            .iter()
            .position(|c| c.name == m.channel)
            .unwrap_or(0) as u32;
        if !self.schema_writer_or_free(node, ch) {
            return Err(CommandError::Schema(format!(
                "`{}` does not produce to `{}`, a channel with schemas: a published message is \
                 written with its producer's current version",
                self.nodes[node as usize].name, m.channel
            )));
        }
        Ok(())
    }

    /// The live check of a chosen id: not yet assigned by the engine's numbering and not
    /// reserved (by the scenario or an earlier `publish`).
    pub(super) fn check_chosen_id(&self, id: u64) -> Result<(), CommandError> {
        if self.reserved_ids.contains(&id) {
            return Err(CommandError::Invalid(format!(
                "id: message id {id} is already chosen (by the scenario or an earlier publish)"
            )));
        }
        if id < self.next_msg {
            return Err(CommandError::Invalid(format!(
                "id: message id {id} is already assigned by the engine (the next free id is \
                 {})",
                self.next_msg
            )));
        }
        Ok(())
    }

    /// Applies a checked `publish`.
    pub(super) fn execute_publish(
        &mut self,
        node: &str,
        instance: u32,
        id: Option<u64>,
        m: &MessageTemplate,
    ) -> Result<(), CommandError> {
        let ep = self.instance_ref(node, instance)?;
        if let Some(id) = id {
            // Live: reserved now; from the fault schedule: reserved at build time.
            self.reserved_ids.insert(id);
        }
        let inst = self.inst(ep);
        if !inst.up || inst.paused {
            self.skip_send(ep.node);
            return Ok(());
        }
        let id = match id {
            Some(id) => MessageId(id),
            None => self.next_message_id(),
        };
        self.send_chosen(ep, id, m);
        Ok(())
    }
}
