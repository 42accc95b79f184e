//! Choosing a partition for a record, as Kafka's producer does.
//!
//! * **Keyed records** go to `toPositive(murmur2(key bytes)) % partitions`: Kafka's default
//!   partitioner (`DefaultPartitioner` before 3.3, `BuiltInPartitioner.partitionForKey` since),
//!   with [`murmur2`] bit-for-bit equal to Kafka's `Utils.murmur2` (checked against the vectors of
//!   Kafka's `UtilsTest.testMurmur2`). The key's bytes are its UTF-8 encoding, as Kafka's
//!   `StringSerializer` writes them. So a key always maps to the same partition while the
//!   partition count stays the same, and to the same partition a real Kafka producer would pick.
//! * **Keyless records** go round robin: the n-th keyless record a [`Partitioner`] places on a
//!   topic goes to partition `n % partitions`, the counter starting at 0. This is the pre-2.4
//!   `DefaultPartitioner` (which started its per-topic counter at a random value; msgsim starts at
//!   0 so that runs are reproducible) and Kafka's explicit `RoundRobinPartitioner`. **Newer Kafka
//!   differs:** since 2.4 (KIP-480) keyless records are *sticky* — the producer fills a batch for
//!   one partition before switching — and since 3.3 (KIP-794) the built-in partitioner switches
//!   after `batch.size` bytes, favouring faster brokers. msgsim keeps round robin because it shows
//!   the spread one record at a time.

use super::LogError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Kafka's 32-bit murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`): seed
/// `0x9747b28c`, little-endian 4-byte blocks, the tail mixed as in the Java `switch`
/// fall-through. Returns the Java `int` (signed); e.g. `murmur2(b"21") == -973932308`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    // Java's `seed ^ length` on `int`s: the length is an `int` there (arrays are < 2^31).
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (`n & 0x7fffffff`); not `abs`, so
/// `i32::MIN` maps to 0.
pub fn to_positive(n: i32) -> u32 {
    (n & 0x7fff_ffff) as u32
}

/// The partition Kafka's default partitioner picks for a record with key `key`:
/// `toPositive(murmur2(key.as_bytes())) % partitions`.
///
/// # Errors
/// [`LogError::InvalidConfig`] when `partitions` is 0.
pub fn partition_for_key(key: &str, partitions: u32) -> Result<u32, LogError> {
    if partitions == 0 {
        return Err(LogError::invalid("partitions", 0, "must be at least 1"));
    }
    Ok(to_positive(murmur2(key.as_bytes())) % partitions)
}

/// A producer's partitioner: murmur2 for keyed records, a per-topic round-robin counter for
/// keyless ones (see the module docs for how this differs from Kafka 2.4+'s sticky partitioning).
///
/// Deterministic: the counters start at 0 and live in a `BTreeMap` keyed by topic name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Partitioner {
    round_robin: BTreeMap<String, u64>,
}

impl Partitioner {
    /// A partitioner whose round-robin counters are all 0.
    pub fn new() -> Partitioner {
        Partitioner::default()
    }

    /// The partition for a record of `topic` with `key` among `partitions` partitions. Keyless
    /// records advance the topic's counter.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] when `partitions` is 0 (the counter is not advanced).
    pub fn partition(
        &mut self,
        topic: &str,
        key: Option<&str>,
        partitions: u32,
    ) -> Result<u32, LogError> {
        if partitions == 0 {
            return Err(LogError::invalid("partitions", 0, "must be at least 1"));
        }
        match key {
            Some(k) => partition_for_key(k, partitions),
            None => {
                let counter = self.round_robin.entry(topic.to_string()).or_insert(0);
                let p = (*counter % u64::from(partitions)) as u32;
                *counter = counter.wrapping_add(1);
                Ok(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's `UtilsTest.testMurmur2` (apache/kafka,
    /// clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    #[test]
    fn murmur2_matches_kafka_utils_test() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, want) in cases {
            assert_eq!(murmur2(data), want, "{:?}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(-973_932_308), 1_173_551_340);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), 0x7fff_ffff);
        assert_eq!(to_positive(479_470_107), 479_470_107);
    }

    #[test]
    fn keyed_partition_is_kafkas() {
        // toPositive(-973932308) = 1173551340; % 3 = 0, % 4 = 0, % 7 = 3.
        assert_eq!(partition_for_key("21", 3).unwrap(), 0);
        assert_eq!(partition_for_key("21", 4).unwrap(), 0);
        assert_eq!(partition_for_key("21", 7).unwrap(), 3);
        // murmur2("abc") = 479470107; % 6 = 3.
        assert_eq!(partition_for_key("abc", 6).unwrap(), 3);
        // toPositive(-790332482) = 1357151166; % 5 = 1.
        assert_eq!(partition_for_key("foobar", 5).unwrap(), 1);
        assert!(partition_for_key("abc", 0).is_err());
        // The empty key hashes too (it is not "no key").
        assert_eq!(partition_for_key("", 1).unwrap(), 0);
    }

    #[test]
    fn keyless_records_round_robin_per_topic() {
        let mut p = Partitioner::new();
        let a: Vec<u32> = (0..7).map(|_| p.partition("a", None, 3).unwrap()).collect();
        assert_eq!(a, vec![0, 1, 2, 0, 1, 2, 0]);
        // Another topic has its own counter; keyed records do not advance it.
        assert_eq!(p.partition("b", None, 2).unwrap(), 0);
        assert_eq!(p.partition("b", Some("21"), 2).unwrap(), 0);
        assert_eq!(p.partition("b", None, 2).unwrap(), 1);
        assert!(p.partition("b", None, 0).is_err());
        assert_eq!(p.partition("b", None, 2).unwrap(), 0);
    }
}
