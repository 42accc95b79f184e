//! Brokerless asynchronous messaging: a sender sends straight to an instance of the receiving
//! service over their link. Nothing is buffered on the way, nothing is acked and nothing is
//! retried, so a message to a crashed or unreachable receiver is lost (counted in
//! `Metrics::direct_lost`). The sender balances over the receiver's instances round robin on its
//! own (client-side), without knowing which of them are up.

use super::*;

/// The `queue` of a [`Delivery`] that came straight from a sender (brokerless): there is no
/// broker to ack; its `tag` holds the channel index.
pub(super) const DIRECT_QUEUE: u32 = u32::MAX;

impl Simulation {
    /// Whether channel `channel` is a direct (brokerless) channel.
    pub(super) fn is_direct(&self, channel: u32) -> bool {
        self.messaging.channels[channel as usize]
            .direct_to
            .is_some()
    }

    /// Sends `msg` from `from` straight to the next instance of the channel's receiver.
    pub(super) fn send_direct(&mut self, from: Ep, channel: u32, msg: Arc<Message>) {
        let ch = &mut self.messaging.channels[channel as usize];
        let Some(node) = ch.direct_to else {
            return;
        };
        let count = self.nodes[node as usize].instances.len() as u32;
        let instance = ch.next_instance % count;
        ch.next_instance = (instance + 1) % count;
        self.metrics.direct_sent += 1;
        self.send(from, Ep { node, instance }, Packet::Direct { channel, msg });
    }

    /// A direct message reached a running receiver: into its inbox (or lost if the inbox is
    /// full).
    pub(super) fn receive_direct(&mut self, to: Ep, channel: u32, msg: Arc<Message>) {
        let max = self.scenario.policies.max_inbox as usize;
        let inst = self.inst_mut(to);
        if inst.inbox.len() >= max {
            self.metrics.dropped += 1;
            self.metrics.direct_lost += 1;
            return;
        }
        inst.inbox.push_back(Delivery {
            queue: DIRECT_QUEUE,
            tag: channel as u64,
            msg,
            attempt: 1,
        });
        self.try_start(to);
    }
}
