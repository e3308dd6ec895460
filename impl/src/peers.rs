//! Peer accounting (spec/node.md, "What one peer can cost"): per connection, token buckets on
//! frames, bytes and frames that need a signature check, and a score the core's rejections
//! lower. A peer whose score falls to [`DISCONNECT_AT`] is disconnected and its key refused
//! for a back-off that doubles with each offence. Rejections are logged as samples: the first
//! [`LOGGED_PER_WINDOW`] per (peer, reason) in each [`LOG_WINDOW`], then one count of the rest.
//!
//! Pure and clocked by the caller (milliseconds), so the runtime and the tests drive it alike.

use std::collections::BTreeMap;

use crate::keys::PublicKey;
use crate::node::{PeerId, Reason};

/// Score at or below which a peer is disconnected.
pub const DISCONNECT_AT: i64 = -100;
/// Highest score good messages can build (what a peer may spend before it is cut off).
pub const MAX_SCORE: i64 = 40;
/// What a rejection costs: a forgery (a signature or a frame no honest node sends) 20, a
/// request over its rate 5; the rest nothing: late, ahead, full buffers (what an honest peer
/// on another view also sends), and a client's refused transaction (a nonce raced, a pool
/// full, a balance spent are ordinary; the signature checks they cost are rate-limited).
pub fn penalty(code: Reason) -> i64 {
    match code {
        Reason::Decode
        | Reason::VoteSignature
        | Reason::CandidateSignature
        | Reason::CandidateSeed
        | Reason::CandidatePayloadRoot
        | Reason::CandidateFaultsRoot
        | Reason::FaultInvalid
        | Reason::PendingSignature
        | Reason::BlockAttestation => 20,
        Reason::GetBlocksRate => 5,
        _ => 0,
    }
}

/// Frames per second a peer may send (bursts up to twice as many).
pub const FRAMES_PER_SEC: f64 = 2_000.0;
/// Bytes per second a peer may send (bursts up to twice as many).
pub const BYTES_PER_SEC: f64 = 16.0 * 1024.0 * 1024.0;
/// Frames needing a BLS check (candidates, votes, blocks, transactions) per second (bursts
/// twice).
pub const SIGNED_PER_SEC: f64 = 1_000.0;
/// First back-off of a disconnected key; doubles with each offence, up to [`MAX_BAN_MS`].
pub const BAN_MS: u64 = 30_000;
/// Longest back-off.
pub const MAX_BAN_MS: u64 = 600_000;
/// The window of sampled rejection logs (the runtime flushes the counts of ended windows
/// every window, so a count is at most this late).
pub const LOG_WINDOW: u64 = 1_000;
/// Rejections logged in full per (peer, reason) and window.
pub const LOGGED_PER_WINDOW: u32 = 5;

/// A token bucket: `rate` per second, up to `2 * rate` saved.
#[derive(Clone, Debug)]
struct Bucket {
    tokens: f64,
    rate: f64,
    at: u64,
}

impl Bucket {
    fn new(rate: f64, now: u64) -> Bucket {
        Bucket {
            tokens: 2.0 * rate,
            rate,
            at: now,
        }
    }

    /// Takes `n` tokens if there are; refills first.
    fn take(&mut self, n: f64, now: u64) -> bool {
        let dt = now.saturating_sub(self.at) as f64 / 1000.0;
        self.tokens = (self.tokens + dt * self.rate).min(2.0 * self.rate);
        self.at = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// One connected peer's account.
#[derive(Clone, Debug)]
struct Account {
    key: PublicKey,
    score: i64,
    frames: Bucket,
    bytes: Bucket,
    signed: Bucket,
    cut: bool,
}

/// What to do with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Hand it to the core.
    Core,
    /// Drop it: the peer is over a rate (it cost a point).
    OverRate,
    /// Drop it: the peer is being disconnected.
    Cut,
    /// Drop it and disconnect the peer (this frame took its score to [`DISCONNECT_AT`]); the
    /// key is in back-off.
    Disconnect(PublicKey),
}

/// Every connected peer's account, the keys in back-off and the rejection log's samples.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    peers: BTreeMap<PeerId, Account>,
    /// Per key: refused until (ms), and how many offences so far.
    banned: BTreeMap<PublicKey, (u64, u32)>,
    /// Per (peer, what: a rejection code, `frame`, `handshake`): the window's start and the
    /// rejections in it.
    samples: BTreeMap<(PeerId, String), (u64, u32)>,
}

/// A rejection log decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Log {
    /// Log this rejection in full.
    Full,
    /// Say nothing now.
    Quiet,
    /// Log a count: `n` rejections of this (peer, reason) not logged in the window that
    /// ended; this one starts the next window and is logged in full.
    Suppressed(u32),
}

impl Accounts {
    /// Whether `key` may connect at `now` (not in back-off).
    pub fn may_connect(&self, key: &PublicKey, now: u64) -> bool {
        self.banned.get(key).is_none_or(|(until, _)| *until <= now)
    }

    /// A connection authenticated as `key`.
    pub fn connected(&mut self, peer: PeerId, key: PublicKey, now: u64) {
        self.peers.insert(
            peer,
            Account {
                key,
                score: 0,
                frames: Bucket::new(FRAMES_PER_SEC, now),
                bytes: Bucket::new(BYTES_PER_SEC, now),
                signed: Bucket::new(SIGNED_PER_SEC, now),
                cut: false,
            },
        );
    }

    /// The connection closed. Its sampled counts stay until their window ends, so the
    /// rejections of a peer cut in the middle of a flood are still counted by [`Accounts::flush`]
    /// (they were dropped here before).
    pub fn closed(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    /// A frame of `len` bytes from `peer`; `signed` when it needs a BLS check (its tag is a
    /// candidate, a vote or a block).
    pub fn frame(&mut self, peer: PeerId, len: usize, signed: bool, now: u64) -> Admit {
        let Some(a) = self.peers.get_mut(&peer) else {
            return Admit::Cut;
        };
        if a.cut {
            return Admit::Cut;
        }
        let ok = a.frames.take(1.0, now)
            && a.bytes.take(len as f64, now)
            && (!signed || a.signed.take(1.0, now));
        if ok {
            return Admit::Core;
        }
        a.score -= 1;
        self.settle(peer, now)
            .map_or(Admit::OverRate, Admit::Disconnect)
    }

    /// The core took a frame of `peer` without rejecting it.
    pub fn useful(&mut self, peer: PeerId) {
        if let Some(a) = self.peers.get_mut(&peer) {
            a.score = (a.score + 1).min(MAX_SCORE);
        }
    }

    /// The core rejected a frame of `peer` for `code`. Returns the key to disconnect when the
    /// score reached [`DISCONNECT_AT`] (once; the key is then in back-off).
    pub fn rejected(&mut self, peer: PeerId, code: Reason, now: u64) -> Option<PublicKey> {
        self.peers.get_mut(&peer)?.score -= penalty(code);
        self.settle(peer, now)
    }

    /// Cuts `peer` if its score reached [`DISCONNECT_AT`] and it is not cut yet; its key then
    /// waits a back-off.
    fn settle(&mut self, peer: PeerId, now: u64) -> Option<PublicKey> {
        let a = self.peers.get_mut(&peer)?;
        (a.score <= DISCONNECT_AT && !a.cut).then(|| {
            a.cut = true;
            let key = a.key;
            let (until, offences) = self.banned.entry(key).or_insert((0, 0));
            let ms = BAN_MS
                .saturating_mul(1 << (*offences).min(16))
                .min(MAX_BAN_MS);
            *offences += 1;
            *until = now + ms;
            key
        })
    }

    /// The peer's score (None when it is not connected).
    pub fn score(&self, peer: PeerId) -> Option<i64> {
        self.peers.get(&peer).map(|a| a.score)
    }

    /// Until when `key` is refused, if it ever was cut.
    pub fn banned_until(&self, key: &PublicKey) -> Option<u64> {
        self.banned.get(key).map(|(until, _)| *until)
    }

    /// The counts of ended windows not logged one by one: (peer, what, count), each once.
    pub fn flush(&mut self, now: u64) -> Vec<(PeerId, String, u32)> {
        let mut out = Vec::new();
        self.samples.retain(|(peer, what), (start, n)| {
            if now < *start + LOG_WINDOW {
                return true;
            }
            if *n > LOGGED_PER_WINDOW {
                out.push((*peer, what.clone(), *n - LOGGED_PER_WINDOW));
            }
            false
        });
        out
    }

    /// Whether to log a rejection of `peer` for `what` (a rejection code, `frame`,
    /// `handshake`) at `now`.
    pub fn log(&mut self, peer: PeerId, what: &str, now: u64) -> Log {
        let (start, n) = self
            .samples
            .entry((peer, what.to_string()))
            .or_insert((now, 0));
        if now >= *start + LOG_WINDOW {
            let quiet = n.saturating_sub(LOGGED_PER_WINDOW);
            *start = now;
            *n = 1;
            return if quiet > 0 {
                Log::Suppressed(quiet)
            } else {
                Log::Full
            };
        }
        *n += 1;
        if *n <= LOGGED_PER_WINDOW {
            Log::Full
        } else {
            Log::Quiet
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    #[test]
    fn forged_signatures_cut_a_peer_after_a_few_and_its_key_waits() {
        let mut a = Accounts::default();
        let key = Keypair::testnet(3).public;
        a.connected(7, key, 0);
        // Good messages first: the most credit a peer can build.
        for _ in 0..1000 {
            a.useful(7);
        }
        let mut cut_after = None;
        for n in 1..=100 {
            if a.rejected(7, Reason::VoteSignature, 1_000).is_some() {
                cut_after = Some(n);
                break;
            }
        }
        // (40 + 100) / 20 = 7 forgeries.
        assert_eq!(cut_after, Some(7));
        assert_eq!(a.frame(7, 100, true, 1_001), Admit::Cut);
        assert!(!a.may_connect(&key, 1_001));
        assert!(a.may_connect(&key, 1_000 + BAN_MS));
        // A second offence waits twice as long.
        a.connected(8, key, 40_000);
        while a.rejected(8, Reason::Decode, 40_000).is_none() {}
        assert!(!a.may_connect(&key, 40_000 + BAN_MS));
        assert!(a.may_connect(&key, 40_000 + 2 * BAN_MS));
    }

    #[test]
    fn what_an_honest_peer_on_another_view_sends_costs_nothing() {
        let mut a = Accounts::default();
        a.connected(1, Keypair::testnet(1).public, 0);
        for r in [
            Reason::TooFarAhead,
            Reason::VoteParent,
            Reason::BlockBelowFinal,
            Reason::FutureBufferPeer,
        ] {
            for _ in 0..10_000 {
                assert_eq!(a.rejected(1, r, 0), None);
            }
        }
        assert_eq!(a.score(1), Some(0));
    }

    #[test]
    fn rates_are_token_buckets() {
        let mut a = Accounts::default();
        a.connected(1, Keypair::testnet(1).public, 0);
        let burst = (2.0 * SIGNED_PER_SEC) as usize;
        for _ in 0..burst {
            assert_eq!(a.frame(1, 10, true, 0), Admit::Core);
        }
        assert_eq!(a.frame(1, 10, true, 0), Admit::OverRate);
        // Unsigned frames have their own (larger) budget; a second refills the signed one.
        assert_eq!(a.frame(1, 10, false, 0), Admit::Core);
        assert_eq!(a.frame(1, 10, true, 1_000), Admit::Core);
        assert_eq!(a.frame(99, 10, false, 0), Admit::Cut);
        // A peer that keeps sending over its rate is cut like a forger.
        let outcome = (0..5_000).find_map(|_| match a.frame(1, 10, true, 1_000) {
            Admit::Disconnect(k) => Some(k),
            _ => None,
        });
        assert_eq!(outcome, Some(Keypair::testnet(1).public));
    }

    #[test]
    fn rejections_are_logged_as_samples() {
        let mut a = Accounts::default();
        let logs: Vec<Log> = (0..8).map(|_| a.log(1, "REJ-DECODE", 0)).collect();
        assert_eq!(logs.iter().filter(|l| **l == Log::Full).count(), 5);
        assert_eq!(logs[7], Log::Quiet);
        assert_eq!(a.log(1, "REJ-DECODE", LOG_WINDOW), Log::Suppressed(3));
        assert_eq!(a.log(1, "REJ-DECODE", LOG_WINDOW + 1), Log::Full);
        assert_eq!(a.log(2, "REJ-DECODE", LOG_WINDOW + 1), Log::Full);
        assert_eq!(a.log(1, "frame", LOG_WINDOW + 1), Log::Full);
        // Ended windows are flushed once, with what they did not log.
        for _ in 0..9 {
            a.log(3, "REJ-VOTE-SIGNATURE", LOG_WINDOW + 2);
        }
        assert_eq!(a.flush(LOG_WINDOW + 3), vec![]);
        assert_eq!(
            a.flush(3 * LOG_WINDOW),
            vec![(3, "REJ-VOTE-SIGNATURE".to_string(), 4)]
        );
        assert_eq!(a.flush(3 * LOG_WINDOW), vec![]);
        // A peer cut in the middle of a window: its count is still flushed.
        a.connected(4, Keypair::testnet(4).public, 0);
        for _ in 0..7 {
            a.log(4, "REJ-TRANSACTION", 4 * LOG_WINDOW);
        }
        a.closed(4);
        assert_eq!(
            a.flush(5 * LOG_WINDOW),
            vec![(4, "REJ-TRANSACTION".to_string(), 2)]
        );
    }
}
