//! Execution (spec/execution.md): the transactions of a block, run against the state of its
//! parent, give the state whose root the header commits to.
//!
//! Two layers, kept apart on purpose (EXEC-ISO-1):
//! - **protocol state**, the [`Ledger`] (stakes, locked, rewards, suspensions): changed only by
//!   the consensus effects of a block (rewards and slashes, `Ledger::apply`) and by the stake
//!   rules (`Ledger::stake`, `unstake`, `withdraw`), called from [`Body::Stake`] alone;
//! - **application state**, [`AppState`]: account balances and nonces, deployed contracts and
//!   each contract's own storage, changed by [`Body::Deploy`] and [`Body::Call`] through the
//!   sandbox ([`vm`]), whose host functions see one contract's storage and nothing else.
//!
//! Every transaction but the coinbase is signed by its sender at the sender's next nonce and
//! pays from the sender's own account (EXEC-TX-1). A transaction that fails (trap, out of gas,
//! out of memory, a refused host call, an invalid module, a stake rule) leaves a [`Receipt`]
//! saying why, pays its fee and changes nothing else; the block goes on (EXEC-TX-2). A *block*
//! is invalid only for what its generator controls: an undecodable or oversized transaction,
//! too many transactions or bytes, gas limits over the block's, a missing coinbase, a
//! transaction unsigned, out of nonce order or unpayable (EXEC-BLOCK-4), or a state root that
//! re-execution does not reproduce (EXEC-BLOCK-1, EXEC-BLOCK-2, EXEC-BLOCK-3).

pub mod samples;
pub mod vm;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use imbl::OrdMap;

use serde::{Deserialize, Serialize};

use crate::config::{Genesis, Params};
use crate::encoding::{decode, encode, DecodeError, Reader, Wire};
use crate::hash::{blake2b256, Hash};
use crate::keys::{KeyRing, Keypair, PublicKey, Signature};
use crate::ledger::Ledger;
use crate::message::{merkle_leaf, merkle_root_of_leaves};
use crate::rules::Rule;

/// An application account: 32 bytes (a provisioner's is [`address_of`] its key).
pub type Address = [u8; 32];

/// Largest encoded transaction (EXEC-BLOCK-1).
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Largest gas limit of one call (EXEC-VM-2).
pub const MAX_TX_GAS: u64 = 10_000_000;
/// Largest sum of the gas limits of one block's calls (EXEC-BLOCK-1).
pub const BLOCK_GAS_LIMIT: u64 = 200_000_000;
/// Gas units of every transaction, on top of a call's gas or a deploy's bytes.
pub const BASE_FEE: u64 = 1_000;
/// Lowest gas price (lux per gas unit).
pub const MIN_GAS_PRICE: u64 = 1;
/// Transactions (after the coinbase) of one block, at most (EXEC-BLOCK-1).
pub const MAX_BLOCK_TXS: usize = 256;
/// Encoded bytes of one block's transactions, at most (EXEC-BLOCK-1; well under a frame).
pub const MAX_PAYLOAD_BYTES: usize = 512 * 1024;
/// Balance of each genesis provisioner's account (lux): 1,000,000 DUSK.
pub const GENESIS_BALANCE: u64 = 1_000_000_000_000_000;

/// The application account of a provisioner key.
pub fn address_of(pk: &PublicKey) -> Address {
    blake2b256(&[b"SA-ADDRESS-V1", &pk.0])
}

/// A contract's id: the hash of its code.
pub fn contract_id(code: &[u8]) -> Hash {
    blake2b256(&[b"SA-CONTRACT-V1", code])
}

/// A stake operation (spec/execution.md STAKE-1, STAKE-2, STAKE-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StakeOp {
    /// Move `amount` from the provisioner's account into stake, mature at
    /// `next_epoch(h) + EPOCH` (STAKE-1).
    Stake {
        /// Lux.
        amount: u64,
    },
    /// Return all stake (maturing and locked included) to the account; weight drops to 0
    /// (STAKE-2).
    Unstake,
    /// Move `amount` of rewards to the account (STAKE-3): rewards never become stake by
    /// themselves.
    Withdraw {
        /// Lux.
        amount: u64,
    },
}

impl Wire for StakeOp {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            StakeOp::Stake { amount } => {
                out.push(0);
                amount.put(out);
            }
            StakeOp::Unstake => out.push(1),
            StakeOp::Withdraw { amount } => {
                out.push(2);
                amount.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(StakeOp::Stake {
                amount: u64::get(r, "StakeOp.amount")?,
            }),
            1 => Ok(StakeOp::Unstake),
            2 => Ok(StakeOp::Withdraw {
                amount: u64::get(r, "StakeOp.amount")?,
            }),
            t => Err(r.bad_value(1, what, format!("unknown stake operation {t}"))),
        }
    }
}

/// What a signed transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// Store a contract: `BASE_FEE + 4` gas units per byte, charged even when the module is
    /// refused.
    Deploy {
        /// The WebAssembly module.
        code: Vec<u8>,
    },
    /// Call a contract's `call` export with `input`, with at most `gas_limit` fuel:
    /// `BASE_FEE` + gas used units.
    Call {
        /// The contract.
        contract: Hash,
        /// Bytes the contract reads with `input_read`.
        input: Vec<u8>,
        /// Fuel limit (≤ [`MAX_TX_GAS`]).
        gas_limit: u64,
    },
    /// A stake operation of the sender (a provisioner of the key ring): `BASE_FEE` units.
    Stake(StakeOp),
}

/// A transaction signed by its sender (EXEC-TX-1): the fee and any value come from the
/// signer's own account, at the account's next nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// The sender's BLS key; its account is [`address_of`] it.
    pub sender: PublicKey,
    /// Must equal the account's count of transactions so far (no replay, one order).
    pub nonce: u64,
    /// Lux per gas unit (≥ [`MIN_GAS_PRICE`]); the pool's priority.
    pub gas_price: u64,
    /// What it does.
    pub body: Body,
    /// BLS signature of the sender over [`SignedTx::digest`].
    pub signature: Signature,
}

/// A transaction of a block payload (spec/encoding.md, "Transactions").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tx {
    /// First transaction of every block: names the round and the generator (EXEC-BLOCK-2).
    Coinbase {
        /// The block's height.
        round: u64,
        /// Its generator.
        generator: PublicKey,
    },
    /// Every other transaction.
    Signed(SignedTx),
}

impl SignedTx {
    /// Signs `body` as `kp`'s transaction number `nonce` at `gas_price`.
    pub fn new(kp: &Keypair, nonce: u64, gas_price: u64, body: Body) -> SignedTx {
        let mut t = SignedTx {
            sender: kp.public,
            nonce,
            gas_price,
            body,
            signature: Signature::EMPTY,
        };
        t.signature = kp.sign(&t.digest());
        t
    }

    fn put_unsigned(&self, out: &mut Vec<u8>) {
        out.push(match self.body {
            Body::Deploy { .. } => 1,
            Body::Call { .. } => 2,
            Body::Stake(_) => 3,
        });
        self.sender.put(out);
        self.nonce.put(out);
        self.gas_price.put(out);
        match &self.body {
            Body::Deploy { code } => code.put(out),
            Body::Call {
                contract,
                input,
                gas_limit,
            } => {
                contract.put(out);
                input.put(out);
                gas_limit.put(out);
            }
            Body::Stake(op) => op.put(out),
        }
    }

    /// What the sender signs: `BLAKE2b-256("SA-TX-V1" ‖ the encoding without the signature)`.
    pub fn digest(&self) -> Hash {
        let mut b = Vec::new();
        self.put_unsigned(&mut b);
        blake2b256(&[b"SA-TX-V1", &b])
    }

    /// The sender's account.
    pub fn account(&self) -> Address {
        address_of(&self.sender)
    }

    /// Gas units it may be charged, at most.
    pub fn max_units(&self) -> u64 {
        match &self.body {
            Body::Deploy { code } => deploy_units(code),
            Body::Call { gas_limit, .. } => BASE_FEE.saturating_add(*gas_limit),
            Body::Stake(_) => BASE_FEE,
        }
    }

    /// The largest fee it may be charged (`None` past `u64`: such a transaction is invalid).
    pub fn max_fee(&self) -> Option<u64> {
        self.max_units().checked_mul(self.gas_price)
    }

    /// The most it may take from the sender's balance: its largest fee plus the amount a
    /// stake moves out of the account.
    pub fn max_debit(&self) -> Option<u64> {
        let value = match &self.body {
            Body::Stake(StakeOp::Stake { amount }) => *amount,
            _ => 0,
        };
        self.max_fee()?.checked_add(value)
    }

    /// The gas limit of a call (0 otherwise): what counts against the block's gas.
    pub fn gas_limit(&self) -> u64 {
        match &self.body {
            Body::Call { gas_limit, .. } => *gas_limit,
            _ => 0,
        }
    }
}

/// Gas units of deploying `code`.
pub fn deploy_units(code: &[u8]) -> u64 {
    BASE_FEE.saturating_add(vm::FUEL_PER_BYTE.saturating_mul(code.len() as u64))
}

impl Wire for Tx {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Tx::Coinbase { round, generator } => {
                out.push(0);
                round.put(out);
                generator.put(out);
            }
            Tx::Signed(t) => {
                t.put_unsigned(out);
                t.signature.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        let tag = r.tag(what)?;
        if tag == 0 {
            return Ok(Tx::Coinbase {
                round: u64::get(r, "Tx.round")?,
                generator: PublicKey::get(r, "Tx.generator")?,
            });
        }
        if tag > 3 {
            return Err(r.bad_value(1, what, format!("unknown transaction kind {tag}")));
        }
        let sender = PublicKey::get(r, "Tx.sender")?;
        let nonce = u64::get(r, "Tx.nonce")?;
        let gas_price = u64::get(r, "Tx.gas_price")?;
        let body = match tag {
            1 => Body::Deploy {
                code: Vec::get(r, "Tx.code")?,
            },
            2 => Body::Call {
                contract: Hash::get(r, "Tx.contract")?,
                input: Vec::get(r, "Tx.input")?,
                gas_limit: u64::get(r, "Tx.gas_limit")?,
            },
            _ => Body::Stake(StakeOp::get(r, "Tx.op")?),
        };
        Ok(Tx::Signed(SignedTx {
            sender,
            nonce,
            gas_price,
            body,
            signature: Signature::get(r, "Tx.signature")?,
        }))
    }
}

impl Tx {
    /// The encoded transaction, as it goes into a payload.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
    /// A short name of its kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Tx::Coinbase { .. } => "coinbase",
            Tx::Signed(t) => match t.body {
                Body::Deploy { .. } => "deploy",
                Body::Call { .. } => "call",
                Body::Stake(_) => "stake",
            },
        }
    }
    /// The signed transaction, if it is one.
    pub fn signed(&self) -> Option<&SignedTx> {
        match self {
            Tx::Signed(t) => Some(t),
            Tx::Coinbase { .. } => None,
        }
    }
}

/// The hash a transaction is known by (the pool's key).
pub fn tx_hash(bytes: &[u8]) -> Hash {
    blake2b256(&[bytes])
}

/// A signed deploy at the lowest gas price (for tests, load generators and tools).
pub fn deploy(kp: &Keypair, nonce: u64, code: Vec<u8>) -> Tx {
    Tx::Signed(SignedTx::new(
        kp,
        nonce,
        MIN_GAS_PRICE,
        Body::Deploy { code },
    ))
}

/// A signed call at the lowest gas price (for tests, load generators and tools).
pub fn call(kp: &Keypair, nonce: u64, contract: Hash, input: Vec<u8>, gas_limit: u64) -> Tx {
    Tx::Signed(SignedTx::new(
        kp,
        nonce,
        MIN_GAS_PRICE,
        Body::Call {
            contract,
            input,
            gas_limit,
        },
    ))
}

/// A signed stake operation at the lowest gas price (for tests, the testnet's load, tools).
pub fn stake_tx_signed(kp: &Keypair, op: StakeOp, nonce: u64) -> Tx {
    Tx::Signed(SignedTx::new(kp, nonce, MIN_GAS_PRICE, Body::Stake(op)))
}

/// How one transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// It ran; its effects are in the state.
    Ok,
    /// It failed; only its fee was charged (`charged` in the receipt, possibly 0).
    Failed {
        /// Stable code (`out-of-gas`, `trap`, `invalid-module`, `bad-signature`, ...).
        code: String,
        /// Why, in words.
        reason: String,
    },
}

/// The record of one transaction's execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Index in the payload.
    pub index: u32,
    /// Kind of transaction.
    pub kind: String,
    /// Outcome.
    pub status: Status,
    /// Fuel used (calls).
    pub gas_used: u64,
    /// Fee charged (lux).
    pub fee: u64,
}

impl Receipt {
    /// Whether it failed.
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Failed { .. })
    }
}

/// One contract's storage (persistent: a clone shares every entry).
pub type Storage = OrdMap<Vec<u8>, Vec<u8>>;

/// Application state: balances, contracts, each contract's storage, account nonces, fees
/// collected. Persistent maps: the state after a block shares with its parent's everything
/// the block did not change, so a clone is O(1) and a node holding the states of its
/// non-final heights holds one full state plus their changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppState {
    /// Balances (lux).
    pub balances: OrdMap<Address, u64>,
    /// Deployed code by contract id.
    pub contracts: OrdMap<Hash, Arc<Vec<u8>>>,
    /// Each contract's storage and its root ([`storage_root`]), changed together by
    /// [`AppState::set_storage`] only (EXEC-STATE-1).
    storage: OrdMap<Hash, (Storage, Hash)>,
    /// Each account's count of transactions so far: its next nonce (EXEC-TX-1).
    pub nonces: OrdMap<Address, u64>,
    /// Fees collected (burned).
    pub fees: u64,
}

impl AppState {
    /// The application state of block 0: every genesis provisioner's account holds
    /// [`GENESIS_BALANCE`].
    pub fn genesis(g: &Genesis) -> AppState {
        AppState {
            balances: g
                .provisioners
                .iter()
                .map(|p| (address_of(&p.key), GENESIS_BALANCE))
                .collect(),
            ..Default::default()
        }
    }

    /// The balance of `a` (0 for an account never credited).
    pub fn balance(&self, a: &Address) -> u64 {
        self.balances.get(a).copied().unwrap_or(0)
    }

    /// The next nonce of `a`.
    pub fn nonce(&self, a: &Address) -> u64 {
        self.nonces.get(a).copied().unwrap_or(0)
    }

    /// The storage of contract `id` (empty if it has none).
    pub fn storage(&self, id: &Hash) -> Storage {
        self.storage
            .get(id)
            .map(|(s, _)| s.clone())
            .unwrap_or_default()
    }

    /// The contracts that have storage, in order.
    pub fn storage_ids(&self) -> Vec<Hash> {
        self.storage.keys().copied().collect()
    }

    /// Contracts with storage, and their storage entries in all.
    pub fn storage_size(&self) -> (usize, usize) {
        (
            self.storage.len(),
            self.storage.values().map(|(s, _)| s.len()).sum(),
        )
    }

    /// Replaces the storage of contract `id`, and its root with it.
    pub fn set_storage(&mut self, id: Hash, st: Storage) {
        if st.is_empty() {
            self.storage.remove(&id);
        } else {
            let root = storage_root(&st);
            self.storage.insert(id, (st, root));
        }
    }
}

/// The root of one contract's storage: the Merkle root (spec/encoding.md §4) of one leaf per
/// entry (key ‖ value, each with its length), in key order.
pub fn storage_root(st: &Storage) -> Hash {
    let mut l = Vec::new();
    merkle_root_of_leaves(
        st.iter()
            .map(|(k, v)| {
                l.clear();
                k.put(&mut l);
                v.put(&mut l);
                merkle_leaf(&l)
            })
            .collect(),
    )
}

/// The state root (EXEC-ROOT-1): the Merkle root (spec/encoding.md §4) of one leaf per ledger
/// account, the ledger's totals, one per balance, one per nonce, one per contract, one per
/// contract storage (its kept root) and the fees, in this order, each leaf the encoding of a
/// tag and its fields. Leaves are hashed as they are made; a storage's root is not recomputed.
pub fn state_root(ledger: &Ledger, app: &AppState) -> Hash {
    Rule::ExecRoot1.applies();
    let mut hashes: Vec<Hash> = Vec::new();
    let mut l: Vec<u8> = Vec::new();
    let mut leaf = |fill: &mut dyn FnMut(&mut Vec<u8>)| {
        l.clear();
        fill(&mut l);
        hashes.push(merkle_leaf(&l));
    };
    for (pk, a) in &ledger.accounts {
        leaf(&mut |l| {
            l.push(b'A');
            pk.put(l);
            for v in [
                a.stake,
                a.locked,
                a.reward,
                a.maturing,
                a.matures_at,
                a.eligible_from,
                a.suspended_until,
            ] {
                v.put(l);
            }
            a.soft_faults.put(l);
            a.hard_faults.put(l);
        });
    }
    leaf(&mut |l| {
        l.push(b'T');
        ledger.dusk_fund.put(l);
        ledger.burned.put(l);
    });
    for (pk, round, iteration) in &ledger.punished {
        leaf(&mut |l| {
            l.push(b'P');
            pk.put(l);
            round.put(l);
            iteration.put(l);
        });
    }
    for (a, b) in &app.balances {
        leaf(&mut |l| {
            l.push(b'B');
            a.put(l);
            b.put(l);
        });
    }
    for (a, n) in &app.nonces {
        leaf(&mut |l| {
            l.push(b'N');
            a.put(l);
            n.put(l);
        });
    }
    for (id, code) in &app.contracts {
        leaf(&mut |l| {
            l.push(b'C');
            id.put(l);
            (code.len() as u64).put(l);
        });
    }
    for (id, (_, root)) in &app.storage {
        leaf(&mut |l| {
            l.push(b'S');
            id.put(l);
            root.put(l);
        });
    }
    leaf(&mut |l| {
        l.push(b'F');
        app.fees.put(l);
    });
    merkle_root_of_leaves(hashes)
}

/// Why a block's payload is invalid (the block, not one transaction).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// EXEC-BLOCK-1.
    #[error("transaction {index}: {problem}")]
    Malformed {
        /// Index in the payload.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// EXEC-BLOCK-1: too many transactions or bytes.
    #[error("the payload holds {txs} transactions and {bytes} bytes, above {MAX_BLOCK_TXS} and {MAX_PAYLOAD_BYTES}")]
    TooLarge {
        /// Transactions after the coinbase.
        txs: usize,
        /// Encoded bytes of all transactions.
        bytes: usize,
    },
    /// EXEC-BLOCK-2.
    #[error("the first transaction must be the coinbase of round {round} by the generator")]
    Coinbase {
        /// The block's height.
        round: u64,
    },
    /// EXEC-BLOCK-1.
    #[error("the calls' gas limits sum to {0}, above the block's {BLOCK_GAS_LIMIT}")]
    BlockGas(u64),
    /// EXEC-BLOCK-4: a transaction its sender did not sign, out of nonce order, or whose
    /// largest fee the sender cannot pay.
    #[error("transaction {index}: {problem}")]
    Unpayable {
        /// Index in the payload.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// EXEC-BLOCK-3.
    #[error("state root {claimed} in the header, re-execution gives {computed}")]
    StateRoot {
        /// The header's.
        claimed: String,
        /// Ours.
        computed: String,
    },
}

/// The state after a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// Protocol state.
    pub ledger: Ledger,
    /// Application state.
    pub app: Arc<AppState>,
    /// One receipt per transaction after the coinbase.
    pub receipts: Vec<Receipt>,
    /// Its root.
    pub root: Hash,
}

fn engine() -> &'static wasmi::Engine {
    static ENGINE: OnceLock<wasmi::Engine> = OnceLock::new();
    ENGINE.get_or_init(vm::engine)
}

/// Compiled modules kept, at most (EXEC-VM-4).
pub const MODULE_CACHE: usize = 256;

/// The compiled module of contract `id` (whose code is `code`): parsed and validated once,
/// then kept (EXEC-VM-4). A contract's id is the hash of its code, so a cached module is
/// the one `code` gives; the cache changes how long a call takes, never what it does.
fn module(id: &Hash, code: &[u8]) -> Result<wasmi::Module, vm::Failure> {
    type Cache = (BTreeMap<Hash, wasmi::Module>, VecDeque<Hash>);
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    Rule::ExecVm4.applies();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(m) = cache.lock().ok().and_then(|c| c.0.get(id).cloned()) {
        return Ok(m);
    }
    let m = vm::load(engine(), code)?;
    if let Ok(mut c) = cache.lock() {
        if c.0.insert(*id, m.clone()).is_none() {
            c.1.push_back(*id);
        }
        while c.1.len() > MODULE_CACHE {
            if let Some(old) = c.1.pop_front() {
                c.0.remove(&old);
            }
        }
    }
    Ok(m)
}

/// Decodes a payload and checks what makes a block invalid before anything runs and without
/// state (EXEC-BLOCK-1, EXEC-BLOCK-2): sizes, counts, the coinbase, gas limits and prices.
/// Signatures, nonces and balances are checked in order as the transactions run
/// ([`run_transactions`], EXEC-BLOCK-4).
pub fn decode_payload(
    payload: &[Vec<u8>],
    round: u64,
    generator: &PublicKey,
) -> Result<Vec<Tx>, BlockError> {
    Rule::ExecBlock1.applies();
    Rule::ExecBlock2.applies();
    let bytes: usize = payload.iter().map(Vec::len).sum();
    if payload.len() > MAX_BLOCK_TXS + 1 || bytes > MAX_PAYLOAD_BYTES {
        return Err(BlockError::TooLarge {
            txs: payload.len().saturating_sub(1),
            bytes,
        });
    }
    let mut txs = Vec::with_capacity(payload.len());
    let mut gas = 0u64;
    for (index, bytes) in payload.iter().enumerate() {
        if bytes.len() > MAX_TX_BYTES {
            return Err(BlockError::Malformed {
                index,
                problem: format!("{} bytes, above {MAX_TX_BYTES}", bytes.len()),
            });
        }
        let tx: Tx = decode(bytes, "Tx").map_err(|e| BlockError::Malformed {
            index,
            problem: e.to_string(),
        })?;
        match (&tx, index) {
            (
                Tx::Coinbase {
                    round: r,
                    generator: g,
                },
                0,
            ) if *r == round && g == generator => {}
            (_, 0) | (Tx::Coinbase { .. }, _) => return Err(BlockError::Coinbase { round }),
            (Tx::Signed(t), _) => {
                if t.gas_limit() > MAX_TX_GAS {
                    return Err(BlockError::Malformed {
                        index,
                        problem: format!("gas limit {} above {MAX_TX_GAS}", t.gas_limit()),
                    });
                }
                if t.gas_price < MIN_GAS_PRICE || t.max_debit().is_none() {
                    return Err(BlockError::Malformed {
                        index,
                        problem: format!("gas price {} out of range", t.gas_price),
                    });
                }
                gas += t.gas_limit();
            }
        }
        txs.push(tx);
    }
    if txs.is_empty() {
        return Err(BlockError::Coinbase { round });
    }
    if gas > BLOCK_GAS_LIMIT {
        return Err(BlockError::BlockGas(gas));
    }
    Ok(txs)
}

fn failed(index: usize, kind: &str, code: &str, reason: String, gas: u64, fee: u64) -> Receipt {
    Rule::ExecTx2.applies();
    Receipt {
        index: index as u32,
        kind: kind.into(),
        status: Status::Failed {
            code: code.into(),
            reason,
        },
        gas_used: gas,
        fee,
    }
}

/// Charges `fee` to `sender` (EXEC-BLOCK-4 made sure the balance covers the largest fee).
fn charge(app: &mut AppState, sender: &Address, fee: u64) {
    let b = app.balance(sender);
    app.balances.insert(*sender, b.saturating_sub(fee));
    app.fees = app.fees.saturating_add(fee.min(b));
}

/// EXEC-BLOCK-4: whether the signed transaction at `index` may run on `app`: signed by its
/// sender (`verified` says which transaction hashes were checked before, e.g. in the pool),
/// at the sender's next nonce, its largest fee within the sender's balance.
fn payable(
    index: usize,
    t: &SignedTx,
    app: &AppState,
    verified: &dyn Fn(&SignedTx) -> bool,
) -> Result<(), BlockError> {
    Rule::ExecBlock4.applies();
    let bad = |problem: String| BlockError::Unpayable { index, problem };
    if !verified(t) {
        crate::keys::verify_any(&t.sender, &t.digest(), &t.signature)
            .map_err(|e| bad(format!("not signed by its sender: {e}")))?;
    }
    let account = t.account();
    let expected = app.nonce(&account);
    if t.nonce != expected {
        return Err(bad(format!(
            "nonce {}, the sender's next is {expected}",
            t.nonce
        )));
    }
    let fee = t.max_fee().unwrap_or(u64::MAX);
    let balance = app.balance(&account);
    if balance < fee {
        return Err(bad(format!(
            "the sender holds {balance}, below the largest fee {fee}"
        )));
    }
    Ok(())
}

/// Runs the transactions (after the coinbase) of a block at `height` on `ledger` (the parent's
/// ledger with this block's consensus effects applied) and `app`; returns the receipts, or
/// why the block is invalid (EXEC-BLOCK-4: a transaction unsigned, out of nonce order or
/// unpayable). Anything a transaction *does* is its own failure, never the block's
/// (EXEC-TX-2). `verified` names transactions whose signature was checked before.
pub fn run_transactions(
    txs: &[Tx],
    height: u64,
    ledger: &mut Ledger,
    app: &mut AppState,
    keys: &KeyRing,
    params: &Params,
    verified: &dyn Fn(&SignedTx) -> bool,
) -> Result<Vec<Receipt>, BlockError> {
    Rule::ExecIso1.applies();
    Rule::ExecTx1.applies();
    let mut receipts = Vec::with_capacity(txs.len().saturating_sub(1));
    for (index, tx) in txs.iter().enumerate().skip(1) {
        let Some(t) = tx.signed() else {
            return Err(BlockError::Coinbase { round: height });
        };
        payable(index, t, app, verified)?;
        let account = t.account();
        app.nonces.insert(account, t.nonce + 1);
        let kind = tx.kind();
        let price = t.gas_price;
        let r = match &t.body {
            Body::Deploy { code } => {
                let fee = deploy_units(code) * price;
                charge(app, &account, fee);
                match vm::validate(engine(), code) {
                    Ok(()) => {
                        let id = contract_id(code);
                        app.contracts
                            .entry(id)
                            .or_insert_with(|| Arc::new(code.clone()));
                        ok(index, kind, 0, fee)
                    }
                    Err(f) => failed(index, kind, f.code(), f.to_string(), 0, fee),
                }
            }
            Body::Call {
                contract,
                input,
                gas_limit,
            } => {
                if let Some(code) = app.contracts.get(contract).cloned() {
                    let st = app.storage(contract);
                    let (result, used) = match module(contract, &code) {
                        Ok(m) => vm::run(engine(), &m, &st, input, *gas_limit),
                        Err(f) => (Err(f), 0),
                    };
                    let fee = (BASE_FEE + used) * price;
                    charge(app, &account, fee);
                    match result {
                        Ok(s) => {
                            if s.storage != st {
                                app.set_storage(*contract, s.storage);
                            }
                            ok(index, kind, used, fee)
                        }
                        Err(f) => failed(index, kind, f.code(), f.to_string(), used, fee),
                    }
                } else {
                    let fee = BASE_FEE * price;
                    charge(app, &account, fee);
                    failed(
                        index,
                        kind,
                        "no-contract",
                        "no contract with this id".into(),
                        0,
                        fee,
                    )
                }
            }
            Body::Stake(op) => {
                let fee = BASE_FEE * price;
                charge(app, &account, fee);
                stake_op(index, &t.sender, op, fee, height, ledger, app, keys, params)
            }
        };
        receipts.push(r);
    }
    Ok(receipts)
}

fn ok(index: usize, kind: &str, gas: u64, fee: u64) -> Receipt {
    Receipt {
        index: index as u32,
        kind: kind.into(),
        status: Status::Ok,
        gas_used: gas,
        fee,
    }
}

/// STAKE-1, STAKE-2, STAKE-3 for the sender `pk` (its fee already charged).
#[allow(clippy::too_many_arguments)]
fn stake_op(
    index: usize,
    pk: &PublicKey,
    op: &StakeOp,
    fee: u64,
    height: u64,
    ledger: &mut Ledger,
    app: &mut AppState,
    keys: &KeyRing,
    params: &Params,
) -> Receipt {
    let kind = "stake";
    let addr = address_of(pk);
    let result = if !keys.contains(pk) {
        Err("the sender is not a provisioner of the key ring".to_string())
    } else {
        match op {
            StakeOp::Stake { amount } => {
                let bal = app.balance(&addr);
                if bal < *amount {
                    Err(format!("balance {bal} below {amount}"))
                } else {
                    ledger.stake(pk, *amount, height, params).map(|()| {
                        app.balances.insert(addr, bal - amount);
                    })
                }
            }
            StakeOp::Unstake => ledger.unstake(pk).map(|v| {
                let b = app.balance(&addr);
                app.balances.insert(addr, b.saturating_add(v));
            }),
            StakeOp::Withdraw { amount } => ledger.withdraw(pk, *amount).map(|()| {
                let b = app.balance(&addr);
                app.balances.insert(addr, b.saturating_add(*amount));
            }),
        }
    };
    match result {
        Ok(()) => ok(index, kind, 0, fee),
        Err(e) => failed(index, kind, "stake-rule", e, 0, fee),
    }
}
