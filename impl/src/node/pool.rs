//! The transaction pool (spec/execution.md, "The pool": EXEC-POOL-1, EXEC-POOL-2,
//! EXEC-POOL-3, EXEC-POOL-4): what enters (signed, payable, in the sender's nonce window,
//! checked cheap-first), how much it holds (count, bytes, per sender), who is evicted (the
//! cheapest), what a generator takes (by price, in nonce order, payable), what leaves (included,
//! stale, expired). Local policy, not validity; deterministic (no hash-map iteration).

use std::collections::{BTreeMap, BinaryHeap};

use crate::encoding::decode;
use crate::exec::{self, Address, AppState, SignedTx, Tx};
use crate::hash::Hash;
use crate::rules::Rule;

/// Transactions kept in the pool, at most (EXEC-POOL-2).
pub const MAX_POOL: usize = 4096;
/// Encoded bytes kept in the pool, at most (EXEC-POOL-2).
pub const MAX_POOL_BYTES: usize = 32 << 20;
/// Transactions of one sender, at most; also the width of its nonce window (EXEC-POOL-1).
pub const MAX_PER_SENDER: u64 = 16;
/// A replacement must raise the gas price by this percentage at least (EXEC-POOL-2).
pub const REPLACE_BUMP_PERCENT: u64 = 10;
/// A transaction that waited this long (ms of the node's clock) leaves the pool (EXEC-POOL-4).
pub const POOL_TTL_MS: u64 = 600_000;

#[derive(Clone, Debug, PartialEq)]
struct Pooled {
    hash: Hash,
    bytes: Vec<u8>,
    tx: SignedTx,
    debit: u64,
    arrived: u64,
    seq: u64,
}

/// What became of an admitted transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// It is new in the pool (relay it).
    Added,
    /// It replaced the sender's transaction of the same nonce (relay it).
    Replaced,
    /// The pool held it already (nothing to do).
    Known,
}

/// The pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pool {
    by_sender: BTreeMap<Address, BTreeMap<u64, Pooled>>,
    by_hash: BTreeMap<Hash, (Address, u64)>,
    bytes: usize,
    seq: u64,
}

impl Pool {
    /// Transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the pool holds exactly `t` (its signature was checked when it entered).
    pub fn holds(&self, t: &SignedTx) -> bool {
        self.by_sender
            .get(&t.account())
            .and_then(|m| m.get(&t.nonce))
            .is_some_and(|p| p.tx == *t)
    }

    /// Transactions held per sender (for tests and `sa inspect`).
    pub fn per_sender(&self) -> BTreeMap<Address, usize> {
        self.by_sender.iter().map(|(a, m)| (*a, m.len())).collect()
    }

    /// What needs no state: size, decoding, not a coinbase, price, gas limit, largest debit.
    fn alone(bytes: &[u8]) -> Result<(SignedTx, u64), String> {
        if bytes.len() > exec::MAX_TX_BYTES {
            return Err(format!(
                "{} bytes, above {}",
                bytes.len(),
                exec::MAX_TX_BYTES
            ));
        }
        let t = match decode::<Tx>(bytes, "Tx").map_err(|e| e.to_string())? {
            Tx::Coinbase { .. } => return Err("a coinbase is the generator's".into()),
            Tx::Signed(t) => t,
        };
        if t.gas_price < exec::MIN_GAS_PRICE {
            return Err(format!(
                "gas price {} below {}",
                t.gas_price,
                exec::MIN_GAS_PRICE
            ));
        }
        if t.gas_limit() > exec::MAX_TX_GAS {
            return Err(format!(
                "gas limit {} above {}",
                t.gas_limit(),
                exec::MAX_TX_GAS
            ));
        }
        let Some(debit) = t.max_debit() else {
            return Err("its largest fee overflows".into());
        };
        Ok((t, debit))
    }

    /// EXEC-POOL-1, EXEC-POOL-2: admits `bytes` against the tip's state `tip` at time `now`,
    /// or says why not (and changes nothing). `signature_checked` skips the signature (a
    /// transaction of a reverted block, checked when that block was executed).
    pub fn admit(
        &mut self,
        bytes: Vec<u8>,
        now: u64,
        tip: &AppState,
        signature_checked: bool,
    ) -> Result<Admitted, String> {
        Rule::ExecPool1.applies();
        Rule::ExecPool2.applies();
        let (t, debit) = Self::alone(&bytes)?;
        let hash = exec::tx_hash(&bytes);
        if self.by_hash.contains_key(&hash) {
            return Ok(Admitted::Known);
        }
        let account = t.account();
        let next = tip.nonce(&account);
        if t.nonce < next {
            return Err(format!(
                "nonce {} is used (the sender's next is {next})",
                t.nonce
            ));
        }
        if t.nonce >= next + MAX_PER_SENDER {
            return Err(format!(
                "nonce {} is beyond the sender's window {next}..{}",
                t.nonce,
                next + MAX_PER_SENDER
            ));
        }
        let mine = self.by_sender.get(&account);
        let replaced = mine.and_then(|m| m.get(&t.nonce)).map(|p| p.tx.gas_price);
        if let Some(old) = replaced {
            let needed = u128::from(old) * u128::from(100 + REPLACE_BUMP_PERCENT);
            if u128::from(t.gas_price) * 100 < needed {
                return Err(format!(
                    "replaces nonce {} at gas price {}, below {}% more than {old}",
                    t.nonce, t.gas_price, REPLACE_BUMP_PERCENT
                ));
            }
        }
        // The sender must be able to pay everything it has pooled up to this nonce and this.
        let before: u64 = mine
            .map(|m| m.range(..t.nonce).map(|(_, p)| p.debit).sum())
            .unwrap_or(0);
        let balance = tip.balance(&account);
        if before.saturating_add(debit) > balance {
            return Err(format!(
                "the sender holds {balance}, below {} (its pooled transactions and this one at most)",
                before.saturating_add(debit)
            ));
        }
        let evict = if replaced.is_some() {
            vec![]
        } else {
            self.to_evict(&account, t.gas_price, bytes.len())?
        };
        // The costly check last: a peer's junk costs a signature check only if it names a
        // funded account at a usable nonce and outbids the pool.
        if !signature_checked {
            crate::keys::verify_any(&t.sender, &t.digest(), &t.signature)
                .map_err(|e| format!("not signed by its sender: {e}"))?;
        }
        for (a, n) in evict {
            self.remove(&a, n);
        }
        let outcome = if replaced.is_some() {
            self.remove(&account, t.nonce);
            Admitted::Replaced
        } else {
            Admitted::Added
        };
        self.seq += 1;
        self.bytes += bytes.len();
        self.by_hash.insert(hash, (account, t.nonce));
        self.by_sender.entry(account).or_default().insert(
            t.nonce,
            Pooled {
                hash,
                bytes,
                tx: t,
                debit,
                arrived: now,
                seq: self.seq,
            },
        );
        Ok(outcome)
    }

    /// Which transactions a newcomer at `price` of `len` bytes from `sender` evicts to fit
    /// (EXEC-POOL-2): each time the cheapest of the other senders' highest-nonce transactions
    /// (of equal prices the latest to arrive), while the pool is over its count or bytes.
    fn to_evict(
        &self,
        sender: &Address,
        price: u64,
        len: usize,
    ) -> Result<Vec<(Address, u64)>, String> {
        let mut count = self.len() + 1;
        let mut bytes = self.bytes + len;
        let mut tails: BTreeMap<Address, Vec<&Pooled>> = BTreeMap::new();
        for (a, m) in &self.by_sender {
            if a != sender {
                tails.insert(*a, m.values().collect());
            }
        }
        let mut out = vec![];
        while count > MAX_POOL || bytes > MAX_POOL_BYTES {
            let cheapest = tails
                .iter()
                .filter_map(|(a, v)| v.last().map(|p| (a, p)))
                .min_by_key(|(_, p)| (p.tx.gas_price, std::cmp::Reverse(p.seq)))
                .map(|(a, p)| (*a, p.tx.nonce, p.tx.gas_price, p.bytes.len()));
            match cheapest {
                Some((a, n, p, l)) if p < price => {
                    out.push((a, n));
                    count -= 1;
                    bytes -= l;
                    if let Some(v) = tails.get_mut(&a) {
                        v.pop();
                    }
                }
                _ => {
                    return Err(format!(
                        "the pool is full ({} transactions, {} bytes) and holds nothing cheaper than gas price {price}",
                        self.len(),
                        self.bytes
                    ))
                }
            }
        }
        Ok(out)
    }

    fn remove(&mut self, a: &Address, nonce: u64) {
        if let Some(m) = self.by_sender.get_mut(a) {
            if let Some(p) = m.remove(&nonce) {
                self.bytes -= p.bytes.len();
                self.by_hash.remove(&p.hash);
            }
            if m.is_empty() {
                self.by_sender.remove(a);
            }
        }
    }

    /// EXEC-POOL-3: the transactions of a block on the tip's state `tip`, by gas price, each
    /// sender's in nonce order from its next nonce, while `max_txs`, `max_bytes`, `max_gas`
    /// fit and each sender's balance covers the largest debits taken.
    pub fn take(
        &self,
        tip: &AppState,
        max_txs: usize,
        max_bytes: usize,
        max_gas: u64,
    ) -> Vec<Vec<u8>> {
        Rule::ExecPool3.applies();
        // One cursor per sender whose next transaction is pooled: (price, sender) ordered.
        let mut heap = BinaryHeap::new();
        for (a, m) in &self.by_sender {
            let next = tip.nonce(a);
            if let Some(p) = m.get(&next) {
                heap.push((p.tx.gas_price, std::cmp::Reverse(*a), next, 0u64));
            }
        }
        let (mut out, mut bytes, mut gas) = (vec![], 0usize, 0u64);
        while let Some((_, std::cmp::Reverse(a), nonce, spent)) = heap.pop() {
            if out.len() == max_txs {
                break;
            }
            let Some(p) = self.by_sender.get(&a).and_then(|m| m.get(&nonce)) else {
                continue;
            };
            let paid = spent.saturating_add(p.debit);
            if bytes + p.bytes.len() > max_bytes
                || gas + p.tx.gas_limit() > max_gas
                || paid > tip.balance(&a)
            {
                continue; // this sender is done for this block; others may still fit
            }
            bytes += p.bytes.len();
            gas += p.tx.gas_limit();
            out.push(p.bytes.clone());
            if let Some(q) = self.by_sender.get(&a).and_then(|m| m.get(&(nonce + 1))) {
                heap.push((q.tx.gas_price, std::cmp::Reverse(a), nonce + 1, paid));
            }
        }
        out
    }

    /// EXEC-POOL-4: after a block, drops what the tip's state `tip` made stale (nonces used)
    /// and what waited [`POOL_TTL_MS`] by `now`.
    pub fn after_block(&mut self, tip: &AppState, now: u64) {
        Rule::ExecPool4.applies();
        let mut gone = vec![];
        for (a, m) in &self.by_sender {
            let next = tip.nonce(a);
            for (n, p) in m {
                if *n < next || now.saturating_sub(p.arrived) >= POOL_TTL_MS {
                    gone.push((*a, *n));
                }
            }
        }
        for (a, n) in gone {
            self.remove(&a, n);
        }
    }
}
